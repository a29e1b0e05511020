"""Logto's Experience API social sign-in and registration: the sign-in page asks for the provider's
authorization URI, the browser comes back with a code, the social verification is verified through a real
(test) provider, and it identifies the user of the identity (`SignIn`) or makes a new one (`Register`); with
the real identity service beside experience. And every way a step is refused."""

import base64
import json
import secrets
import zlib
from urllib.parse import parse_qs, urlsplit

import sqlalchemy as sa
from gatehouse_platform.rpc import RpcClient
from gatehouse_schema.ids import generate_id
from gatehouse_schema.rpc.identity import USER_SOCIAL_ACCESS_TOKEN, AccountDocument, SocialAccessToken
from gatehouse_schema.tables import management as m
from gatehouse_schema.tables.experience import interactions
from gatehouse_schema.tables.identity import users
from gatehouse_testing.fake_provider import FakeProvider
from gatehouse_testing.fake_saml_idp import FakeSamlIdp
from gatehouse_testing.oidc_flow import make_flow_app
from httpx import AsyncClient
from lxml import etree
from sqlalchemy.ext.asyncio import AsyncEngine

from .accountkit import rpc
from .flowkit import (
    SOCIAL_CALLBACK,
    Browser,
    error,
    make_connector,
    make_user,
    oidc_code,
    password_sign_in,
    provider,
    started,
    write_sign_in_experience,
)

__all__ = ["provider", "rpc"]

AVATAR = "https://cdn.example.com/ann.png"


async def sign_in_experience(
    db: AsyncEngine, *targets: str, sign_up: list[str] | None = None, password: bool = False
) -> None:
    """The tenant's sign-in experience reduced to what the flows read: the social sign-in targets, username +
    password sign-in, and the sign-up identifiers."""
    settings = {
        "signInMode": "SignInAndRegister",
        "signIn": {"methods": [password_sign_in("username")]},
        "signUp": {"identifiers": sign_up or [], "password": password, "verify": True},
        "socialSignInConnectorTargets": list(targets),
    }
    await write_sign_in_experience(db, settings)


async def link(identity: AsyncClient, auth: dict[str, str], user_id: str, target: str, sub: str) -> None:
    body = {"userId": sub, "details": {"id": sub}}
    linked = await identity.put(f"/api/users/{user_id}/identities/{target}", json=body, headers=auth)
    assert linked.status_code in (200, 201), linked.text


async def test_a_linked_user_signs_in_through_the_provider_and_gets_its_synced_profile(
    client: AsyncClient, identity: AsyncClient, db: AsyncEngine, auth: dict[str, str], provider: FakeProvider
) -> None:
    connector_id, target = await make_connector(db, provider, sync_profile=True)
    await sign_in_experience(db, target)
    user = await make_user(identity, auth, email=False, password=False, name="Old Name")
    sub = f"sub-{generate_id()[:8]}"
    await link(identity, auth, user["id"], target, sub)
    browser = await started(identity, client, db, "SignIn")

    state = "st-linked"
    path = f"/api/experience/verification/social/{connector_id}"
    created = await browser.call("POST", f"{path}/authorization-uri", {"state": state, "redirectUri": SOCIAL_CALLBACK})
    assert created.status_code == 200, created.text
    uri = urlsplit(created.json()["authorizationUri"])
    query = parse_qs(uri.query)
    assert f"{uri.scheme}://{uri.netloc}{uri.path}" == f"{provider.url}/authorize"
    assert query["state"] == [state] and query["redirect_uri"] == [SOCIAL_CALLBACK] and query["nonce"]
    verification_id = created.json()["verificationId"]

    code = oidc_code(provider, sub, state, name="Ann Provider", picture=AVATAR, email="ann@corp.example")
    # the browser's redirect back carries the code and the state; the redirect URI is the record's
    body = {"connectorData": {"code": code, "state": state}, "verificationId": verification_id}
    verified = await browser.call("POST", f"{path}/verify", body)
    assert verified.status_code == 200 and verified.json() == {"verificationId": verification_id}, verified.text
    assert provider.token_requests[-1]["redirect_uri"] == SOCIAL_CALLBACK

    identified = await browser.call("POST", "/api/experience/identification", {"verificationId": verification_id})
    assert identified.status_code == 204, identified.text
    state_now = (await browser.call("GET", "/api/experience/interaction")).json()
    assert state_now["userId"] == user["id"]
    assert state_now["profile"] == {"name": "Ann Provider", "avatar": AVATAR}  # the connector syncs the profile
    assert state_now["verificationRecords"] == [
        {"id": verification_id, "type": "Social", "verified": True, "connectorId": connector_id}
    ]

    code = await browser.finish()
    assert code
    after = (await identity.get(f"/api/users/{user['id']}", headers=auth)).json()
    assert (after["name"], after["avatar"]) == ("Ann Provider", AVATAR)
    assert after["primaryEmail"] is None  # Logto syncs only the name and the avatar of an existing user
    error(await browser.call("POST", "/api/experience/submit"), 404, "session.not_found")


async def test_without_sync_profile_the_user_keeps_their_profile(
    client: AsyncClient, identity: AsyncClient, db: AsyncEngine, auth: dict[str, str], provider: FakeProvider
) -> None:
    connector_id, target = await make_connector(db, provider)
    await sign_in_experience(db, target)
    user = await make_user(identity, auth, email=False, password=False, name="Kept")
    sub = f"sub-{generate_id()[:8]}"
    await link(identity, auth, user["id"], target, sub)
    browser = await started(identity, client, db, "SignIn")
    verification_id = await browser.social(provider, connector_id, sub, name="Provider Name")
    identified = await browser.call("POST", "/api/experience/identification", {"verificationId": verification_id})
    assert identified.status_code == 204, identified.text
    assert (await browser.call("GET", "/api/experience/interaction")).json()["profile"] == {}
    await browser.finish()
    assert (await identity.get(f"/api/users/{user['id']}", headers=auth)).json()["name"] == "Kept"


async def test_an_unknown_social_account_names_the_related_user_who_may_link_it(
    client: AsyncClient, identity: AsyncClient, db: AsyncEngine, auth: dict[str, str], provider: FakeProvider
) -> None:
    connector_id, target = await make_connector(db, provider)
    await sign_in_experience(db, target)
    email = f"rel{secrets.token_hex(4)}@example.com"
    user = await make_user(identity, auth, email=False, password=False, primaryEmail=email)
    browser = await started(identity, client, db, "SignIn")

    # nobody has the account, and no user has the provider's email: no hint
    nobody = await browser.social(provider, connector_id, f"sub-{generate_id()[:8]}")
    body = error(
        await browser.call("POST", "/api/experience/identification", {"verificationId": nobody}),
        404,
        "user.identity_not_exist",
    )
    assert not body.get("data")

    # an unverified email names nobody either (the connector drops it)
    sub = f"sub-{generate_id()[:8]}"
    unverified = await browser.social(provider, connector_id, sub, email=email, email_verified=False)
    body = error(
        await browser.call("POST", "/api/experience/identification", {"verificationId": unverified}),
        404,
        "user.identity_not_exist",
    )
    assert not body.get("data")
    related = await browser.social(provider, connector_id, sub, email=email, email_verified=True)
    body = error(
        await browser.call("POST", "/api/experience/identification", {"verificationId": related}),
        404,
        "user.identity_not_exist",
    )
    assert body["data"] == {"relatedUser": {"type": "email", "value": email}}

    # the client links the account to that user (Logto's `linkSocialIdentity`): linked at submit
    linked = await browser.call(
        "POST", "/api/experience/identification", {"verificationId": related, "linkSocialIdentity": True}
    )
    assert linked.status_code == 204, linked.text
    profile = (await browser.call("GET", "/api/experience/interaction")).json()["profile"]
    assert profile["socialIdentity"]["target"] == target and profile["socialIdentity"]["userInfo"]["id"] == sub
    assert (await identity.get(f"/api/users/{user['id']}", headers=auth)).json()["identities"] == {}
    await browser.finish()
    identities = (await identity.get(f"/api/users/{user['id']}", headers=auth)).json()["identities"]
    assert identities[target]["userId"] == sub and identities[target]["details"]["email"] == email

    # the next sign-in finds the user by the identity
    again = await started(identity, client, db, "SignIn")
    verification_id = await again.social(provider, connector_id, sub)
    identified = await again.call("POST", "/api/experience/identification", {"verificationId": verification_id})
    assert identified.status_code == 204, identified.text
    assert (await again.call("GET", "/api/experience/interaction")).json()["userId"] == user["id"]

    # linking with no related user is 404 too
    lonely = await started(identity, client, db, "SignIn")
    verification_id = await lonely.social(provider, connector_id, f"sub-{generate_id()[:8]}")
    error(
        await lonely.call(
            "POST", "/api/experience/identification", {"verificationId": verification_id, "linkSocialIdentity": True}
        ),
        404,
        "user.identity_not_exist",
    )


async def test_registration_creates_the_user_with_the_social_identity(
    client: AsyncClient, identity: AsyncClient, db: AsyncEngine, auth: dict[str, str], provider: FakeProvider
) -> None:
    connector_id, target = await make_connector(db, provider)
    # email and a password are required: the provider's verified email is one, the social identity the other
    await sign_in_experience(db, target, sign_up=["email"], password=True)
    sub, email = f"sub-{generate_id()[:8]}", f"new{secrets.token_hex(4)}@example.com"
    claims = {"email": email, "email_verified": True, "name": "Nia New", "picture": AVATAR}

    # Logto's flow: the sign-in finds no user, the event switches to Register, the same record registers
    browser = await started(identity, client, db, "SignIn")
    verification_id = await browser.social(provider, connector_id, sub, **claims)
    error(
        await browser.call("POST", "/api/experience/identification", {"verificationId": verification_id}),
        404,
        "user.identity_not_exist",
    )
    switched = await browser.call("PUT", "/api/experience/interaction-event", {"interactionEvent": "Register"})
    assert switched.status_code == 204, switched.text
    created = await browser.call("POST", "/api/experience/identification", {"verificationId": verification_id})
    assert created.status_code == 201, created.text
    user_id = (await browser.call("GET", "/api/experience/interaction")).json()["userId"]
    user = (await identity.get(f"/api/users/{user_id}", headers=auth)).json()
    assert (user["primaryEmail"], user["name"], user["avatar"], user["hasPassword"]) == (
        email,
        "Nia New",
        AVATAR,
        False,
    )
    assert user["identities"][target]["userId"] == sub
    assert user["identities"][target]["details"]["email"] == email
    await browser.finish()

    # the account is taken now
    again = await started(identity, client, db, "Register")
    verification_id = await again.social(provider, connector_id, sub, **claims)
    error(
        await again.call("POST", "/api/experience/identification", {"verificationId": verification_id}),
        422,
        "user.identity_already_in_use",
    )

    # another account with the same email: the email is not synced (another user has it), so it is missing
    other = await started(identity, client, db, "Register")
    verification_id = await other.social(provider, connector_id, f"sub-{generate_id()[:8]}", **claims)
    body = error(
        await other.call("POST", "/api/experience/identification", {"verificationId": verification_id}),
        422,
        "user.missing_profile",
    )
    assert body["data"] == {"missingProfile": ["email"]}
    profile = (await other.call("GET", "/api/experience/interaction")).json()["profile"]
    assert "primaryEmail" not in profile and profile["socialIdentity"]["target"] == target


async def test_registration_with_a_username_completes_the_social_profile(
    client: AsyncClient, identity: AsyncClient, db: AsyncEngine, auth: dict[str, str], provider: FakeProvider
) -> None:
    connector_id, target = await make_connector(db, provider)
    await sign_in_experience(db, target, sign_up=["username"], password=True)
    browser = await started(identity, client, db, "Register")
    verification_id = await browser.social(provider, connector_id, f"sub-{generate_id()[:8]}")
    body = error(
        await browser.call("POST", "/api/experience/identification", {"verificationId": verification_id}),
        422,
        "user.missing_profile",
    )
    assert body["data"] == {"missingProfile": ["username"]}  # the social identity stands for the password
    name = f"soc_{secrets.token_hex(4)}"
    added = await browser.call("POST", "/api/experience/profile", {"type": "username", "value": name})
    assert added.status_code == 204, added.text
    created = await browser.call("POST", "/api/experience/identification", {})
    assert created.status_code == 201, created.text
    user_id = (await browser.call("GET", "/api/experience/interaction")).json()["userId"]
    user = (await identity.get(f"/api/users/{user_id}", headers=auth)).json()
    assert user["username"] == name and target in user["identities"]


async def test_a_connector_whose_target_the_sign_in_experience_does_not_enable_is_refused(
    client: AsyncClient, identity: AsyncClient, db: AsyncEngine, auth: dict[str, str], provider: FakeProvider
) -> None:
    connector_id, target = await make_connector(db, provider)
    _, enabled = await make_connector(db, provider)
    await sign_in_experience(db, enabled)
    user = await make_user(identity, auth, email=False, password=False)
    sub = f"sub-{generate_id()[:8]}"
    await link(identity, auth, user["id"], target, sub)

    browser = await started(identity, client, db, "SignIn")
    verification_id = await browser.social(provider, connector_id, sub)
    error(
        await browser.call("POST", "/api/experience/identification", {"verificationId": verification_id}),
        422,
        "user.sign_in_method_not_enabled",
    )
    registering = await started(identity, client, db, "Register")
    verification_id = await registering.social(provider, connector_id, f"sub-{generate_id()[:8]}")
    error(
        await registering.call("POST", "/api/experience/identification", {"verificationId": verification_id}),
        422,
        "user.sign_in_method_not_enabled",
    )
    # enabled, the same account signs in
    await sign_in_experience(db, enabled, target)
    verification_id = await browser.social(provider, connector_id, sub)
    identified = await browser.call("POST", "/api/experience/identification", {"verificationId": verification_id})
    assert identified.status_code == 204, identified.text


async def test_each_social_step_refuses_what_it_must(
    client: AsyncClient, identity: AsyncClient, db: AsyncEngine, auth: dict[str, str], provider: FakeProvider
) -> None:
    connector_id, target = await make_connector(db, provider)
    other_id, _ = await make_connector(db, provider)
    await sign_in_experience(db, target)
    path = f"/api/experience/verification/social/{connector_id}"
    uri_body = {"state": "s", "redirectUri": SOCIAL_CALLBACK}

    nobody = Browser(identity, client)
    error(await nobody.call("POST", f"{path}/authorization-uri", uri_body), 404, "session.not_found")
    browser = Browser(identity, client)
    await browser.authorize((await make_flow_app(db)).id)
    error(await browser.call("POST", f"{path}/authorization-uri", uri_body), 404, "session.interaction_not_found")
    assert (await browser.call("PUT", "/api/experience", {"interactionEvent": "SignIn"})).status_code == 204

    error(
        await browser.call("POST", f"{path}/authorization-uri", {"state": "", "redirectUri": SOCIAL_CALLBACK}),
        400,
        "session.insufficient_info",
    )
    error(await browser.call("POST", f"{path}/authorization-uri", {"state": "s"}), 400, "guard.invalid_input")
    unknown = "/api/experience/verification/social/no-such-connector"
    error(await browser.call("POST", f"{unknown}/authorization-uri", uri_body), 404, "entity.not_found")
    error(
        await browser.call("POST", f"{unknown}/verify", {"connectorData": {}, "verificationId": "x"}),
        422,
        "session.invalid_connector_id",
    )

    created = await browser.call("POST", f"{path}/authorization-uri", uri_body)
    verification_id = created.json()["verificationId"]
    # the record is not verified yet: it identifies nobody
    error(
        await browser.call("POST", "/api/experience/identification", {"verificationId": verification_id}),
        400,
        "session.verification_failed",
    )
    error(
        await browser.call("POST", f"{path}/verify", {"connectorData": {}}),
        404,
        "session.verification_session_not_found",
    )
    error(
        await browser.call("POST", f"{path}/verify", {"connectorData": {}, "verificationId": "unknown"}),
        404,
        "session.verification_session_not_found",
    )
    error(
        await browser.call(
            "POST",
            f"/api/experience/verification/social/{other_id}/verify",
            {"connectorData": {"code": "c"}, "verificationId": verification_id},
        ),
        404,
        "session.verification_session_not_found",
    )
    error(await browser.call("POST", f"{path}/verify", {"verificationId": verification_id}), 400, "guard.invalid_input")

    # the provider refuses a forged code; an ID token for another authorization request (state) is refused
    forged = {"connectorData": {"code": "forged", "state": "s"}, "verificationId": verification_id}
    error(await browser.call("POST", f"{path}/verify", forged), 401, "connector.social_auth_code_invalid")
    sub = f"sub-{generate_id()[:8]}"
    elsewhere = {"connectorData": {"code": oidc_code(provider, sub, "another"), "state": "s"}}
    error(
        await browser.call("POST", f"{path}/verify", {**elsewhere, "verificationId": verification_id}),
        401,
        "connector.social_invalid_id_token",
    )
    # a state the client changes does not move the nonce: it is the record's
    changed = {"connectorData": {"code": oidc_code(provider, sub, "s"), "state": "another"}}
    verified = await browser.call("POST", f"{path}/verify", {**changed, "verificationId": verification_id})
    assert verified.status_code == 200, verified.text

    # a new authorization URI replaces the record (Logto keeps one record of a type)
    replaced = await browser.call("POST", f"{path}/authorization-uri", uri_body)
    records = (await browser.call("GET", "/api/experience/interaction")).json()["verificationRecords"]
    assert [r["id"] for r in records] == [replaced.json()["verificationId"]]
    error(
        await browser.call("POST", "/api/experience/identification", {"verificationId": verification_id}),
        404,
        "session.verification_session_not_found",
    )

    # a suspended user is 401; a user with MFA factors must verify one before submitting
    user = await make_user(identity, auth, email=False, password=False)
    await link(identity, auth, user["id"], target, sub)
    suspended = await identity.patch(f"/api/users/{user['id']}/is-suspended", json={"isSuspended": True}, headers=auth)
    assert suspended.status_code == 200
    verification_id = await browser.social(provider, connector_id, sub)
    error(
        await browser.call("POST", "/api/experience/identification", {"verificationId": verification_id}),
        401,
        "user.suspended",
    )
    await identity.patch(f"/api/users/{user['id']}/is-suspended", json={"isSuspended": False}, headers=auth)
    async with db.begin() as conn:
        factor = {"id": "f1", "type": "Totp", "key": "JBSWY3DPEHPK3PXP", "createdAt": "2026-01-01T00:00:00Z"}
        await conn.execute(sa.update(users).where(users.c.id == user["id"]).values(mfa_verifications=[factor]))
    identified = await browser.call("POST", "/api/experience/identification", {"verificationId": verification_id})
    assert identified.status_code == 204, identified.text
    error(await browser.call("POST", "/api/experience/submit"), 403, "session.mfa.require_mfa_verification")


async def test_a_connector_with_token_storage_keeps_the_provider_tokens_at_sign_in_and_registration(
    client: AsyncClient,
    identity: AsyncClient,
    db: AsyncEngine,
    auth: dict[str, str],
    provider: FakeProvider,
    rpc: RpcClient,
) -> None:
    connector_id, target = await make_connector(db, provider, token_storage=True)
    await sign_in_experience(db, target)
    user = await make_user(identity, auth, email=False, password=False)
    sub = f"sub-{generate_id()[:8]}"
    await link(identity, auth, user["id"], target, sub)

    browser = await started(identity, client, db, "SignIn")
    verification_id = await browser.social(provider, connector_id, sub)
    issued = list(provider.access_tokens)[-1]
    identified = await browser.call("POST", "/api/experience/identification", {"verificationId": verification_id})
    assert identified.status_code == 204, identified.text
    # until submit only identity's sealed envelope waits in the interaction, and the public state hides it
    async with db.connect() as conn:
        rows = (await conn.execute(sa.select(interactions.c.verifications, interactions.c.profile))).all()
    stored = json.dumps([[r.verifications, r.profile] for r in rows])
    assert issued not in stored and "ciphertext" in stored
    public = (await browser.call("GET", "/api/experience/interaction")).json()
    assert public["profile"] == {} and "tokenSet" not in json.dumps(public)
    shown = await identity.get(f"/api/users/{user['id']}/identities/{target}?includeTokenSecret=true", headers=auth)
    assert "tokenSecret" not in shown.json()

    await browser.finish()
    shown = await identity.get(f"/api/users/{user['id']}/identities/{target}?includeTokenSecret=true", headers=auth)
    secret = shown.json()["tokenSecret"]
    assert (secret["connectorId"], secret["identityId"], secret["target"]) == (connector_id, sub, target)
    assert secret["metadata"]["hasRefreshToken"] is True and secret["metadata"]["tokenType"] == "Bearer"
    kept = await rpc.call(
        "identity", USER_SOCIAL_ACCESS_TOKEN, SocialAccessToken(user_id=user["id"], target=target), AccountDocument
    )
    assert kept.body["access_token"] == issued

    # a registration keeps the new user's tokens as it creates them
    registering = await started(identity, client, db, "Register")
    verification_id = await registering.social(provider, connector_id, f"sub-{generate_id()[:8]}")
    issued = list(provider.access_tokens)[-1]
    created = await registering.call("POST", "/api/experience/identification", {"verificationId": verification_id})
    assert created.status_code == 201, created.text
    new_user = (await registering.call("GET", "/api/experience/interaction")).json()["userId"]
    kept = await rpc.call(
        "identity", USER_SOCIAL_ACCESS_TOKEN, SocialAccessToken(user_id=new_user, target=target), AccountDocument
    )
    assert kept.body["access_token"] == issued


async def test_a_saml_connector_signs_up_through_identity_s_assertion_consumer_service(
    client: AsyncClient, identity: AsyncClient, db: AsyncEngine, auth: dict[str, str]
) -> None:
    """The SAML connector's round trip is identity's (`saml.begin`, its assertion consumer service,
    `saml.result`); the flow is the same."""
    idp, connector_id = FakeSamlIdp(), generate_id()
    target, acs = f"saml-{connector_id[:6].lower()}", f"http://127.0.0.1/api/authn/saml/{connector_id}"
    config = {
        "entityID": "https://gatehouse.example.com/saml/sp",
        "assertionConsumerServiceUrl": acs,
        "idpMetadataXml": idp.metadata(),
        "profileMap": {"id": "nameID", "email": "mail", "name": "displayName"},
    }
    async with db.begin() as conn:
        await conn.execute(
            sa.insert(m.connectors).values(
                tenant_id="default",
                id=connector_id,
                connector_id="saml",
                config=config,
                metadata={"target": target},
                sync_profile=False,
                enable_token_storage=False,
                created_at=sa.func.now(),
            )
        )
    await sign_in_experience(db, target)
    browser = await started(identity, client, db, "Register")
    path = f"/api/experience/verification/social/{connector_id}"
    created = await browser.call(
        "POST", f"{path}/authorization-uri", {"state": "st-saml", "redirectUri": SOCIAL_CALLBACK}
    )
    assert created.status_code == 200, created.text
    query = {k: v[0] for k, v in parse_qs(urlsplit(created.json()["authorizationUri"]).query).items()}
    request_id = etree.fromstring(zlib.decompress(base64.b64decode(query["SAMLRequest"]), wbits=-15)).get("ID")
    name_id, email = f"ada-{generate_id()[:6]}", f"ada{secrets.token_hex(4)}@example.com"
    saml = idp.response(
        name_id=name_id,
        acs_url=acs,
        audience=config["entityID"],
        in_response_to=request_id,
        attributes={"mail": email, "displayName": "Ada L."},
    )
    posted = await identity.post(
        f"/api/authn/saml/{connector_id}", data={"SAMLResponse": saml, "RelayState": query["RelayState"]}
    )
    assert posted.status_code == 302 and posted.headers["location"] == f"{SOCIAL_CALLBACK}?state=st-saml"
    body = {"connectorData": {"state": "st-saml"}, "verificationId": created.json()["verificationId"]}
    verified = await browser.call("POST", f"{path}/verify", body)
    assert verified.status_code == 200, verified.text
    registered = await browser.call("POST", "/api/experience/identification", verified.json())
    assert registered.status_code == 201, registered.text
    user_id = (await browser.call("GET", "/api/experience/interaction")).json()["userId"]
    user = (await identity.get(f"/api/users/{user_id}", headers=auth)).json()
    assert (user["primaryEmail"], user["name"]) == (email, "Ada L.")
    assert user["identities"][target]["userId"] == name_id
    # the session was handed over once: verifying again finds nothing
    error(await browser.call("POST", f"{path}/verify", body), 404, "session.connector_validation_session_not_found")
