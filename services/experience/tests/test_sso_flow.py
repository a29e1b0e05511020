"""Logto's Experience API enterprise SSO sign-in and registration: the sign-in page asks for the IdP's
authorization URI, the IdP answers (a real signed SAML Response posted to identity's assertion consumer service,
or a real test OIDC provider's code), the `EnterpriseSso` verification is verified, and it identifies the user of
the identity or of its email (`SignIn`) or makes a new one (`Register`); with the real identity service beside
experience. Also the SSO connectors of an email's domain, and the password sign-in an SSO domain refuses."""

import base64
import secrets
import zlib
from typing import Any
from urllib.parse import parse_qs, urlsplit

import msgspec
import sqlalchemy as sa
from gatehouse_schema.ids import generate_id
from gatehouse_schema.tables.identity import outbox as identity_outbox
from gatehouse_schema.tables.identity import user_sso_identities, users
from gatehouse_testing.fake_provider import CLIENT_ID, CLIENT_SECRET, FakeProvider
from gatehouse_testing.fake_saml_idp import FakeSamlIdp
from gatehouse_testing.sso_connectors import write_sso_connector
from httpx import AsyncClient
from lxml import etree
from sqlalchemy.ext.asyncio import AsyncEngine

from .flowkit import (
    PASSWORD,
    Browser,
    error,
    make_user,
    password_sign_in,
    provider,
    started,
    write_sign_in_experience,
)

__all__ = ["provider"]

SSO_CALLBACK = "https://sign-in.example.com/callback/sso"
PUBLIC_URL = "http://127.0.0.1:3001"  # identity's public URL in tests: the SP's entity id and ACS derive from it
AVATAR = "https://cdn.example.com/sso.png"
IDENTIFY = "/api/experience/identification"


def sso_path(connector_id: str) -> str:
    return f"/api/experience/verification/sso/{connector_id}"


def new_domain() -> str:
    return f"corp-{secrets.token_hex(4)}.example"


async def sso_experience(db: AsyncEngine, *, enabled: bool = True, mode: str = "SignInAndRegister") -> None:
    """The sign-in experience: SSO on (or off), email + password sign-in, and a sign-up that asks for a username
    and a password (which an SSO registration does not need)."""
    await write_sign_in_experience(
        db,
        {
            "signInMode": mode,
            "signIn": {"methods": [password_sign_in("email"), password_sign_in("username")]},
            "signUp": {"identifiers": ["username"], "password": True, "verify": False},
            "singleSignOnEnabled": enabled,
        },
    )


async def sso_connector(
    db: AsyncEngine,
    provider_name: str,
    config: dict[str, Any],
    *,
    domains: list[str] | None = None,
    sync_profile: bool = False,
    token_storage: bool = False,
) -> str:
    """An enterprise SSO connector row, as management writes it."""
    return await write_sso_connector(
        db,
        provider_name,
        config,
        domains=domains if domains is not None else [new_domain()],
        branding={"logo": "https://cdn.example.com/corp.svg"},
        sync_profile=sync_profile,
        token_storage=token_storage,
    )


def saml_idp() -> FakeSamlIdp:
    return FakeSamlIdp(entity_id=f"https://idp-{secrets.token_hex(4)}.example.com/metadata")


async def saml_connector(db: AsyncEngine, idp: FakeSamlIdp, **options: Any) -> str:
    config = {"metadata": idp.metadata(), "attributeMapping": {"email": "mail", "name": "displayName"}}
    return await sso_connector(db, "SAML", config, **options)


async def oidc_connector(db: AsyncEngine, provider: FakeProvider, **options: Any) -> str:
    return await sso_connector(db, "OIDC", provider.sso_oidc_config(scope="groups"), **options)


async def saml_sso(
    browser: Browser, idp: FakeSamlIdp, connector_id: str, name_id: str, attributes: dict[str, str]
) -> str:
    """The SAML round trip: the IdP's sign-in URL, its signed Response posted to identity's assertion consumer
    service (which sends the browser back with the state), the verification."""
    state = secrets.token_urlsafe(8)
    created = await browser.call(
        "POST", f"{sso_path(connector_id)}/authorization-uri", {"state": state, "redirectUri": SSO_CALLBACK}
    )
    assert created.status_code == 200, created.text
    query = {k: v[0] for k, v in parse_qs(urlsplit(created.json()["authorizationUri"]).query).items()}
    request_id = etree.fromstring(zlib.decompress(base64.b64decode(query["SAMLRequest"]), wbits=-15)).get("ID")
    acs = f"{PUBLIC_URL}/api/authn/single-sign-on/saml/{connector_id}"
    saml = idp.response(
        name_id=name_id,
        acs_url=acs,
        audience=f"{PUBLIC_URL}/enterprise-sso/{connector_id}",
        in_response_to=request_id,
        attributes=attributes,
    )
    posted = await browser.identity.post(
        f"/api/authn/single-sign-on/saml/{connector_id}",
        data={"SAMLResponse": saml, "RelayState": query["RelayState"]},
    )
    assert posted.status_code == 302 and posted.headers["location"] == f"{SSO_CALLBACK}?state={state}", posted.text
    verification_id = created.json()["verificationId"]
    body = {"connectorData": {"state": state}, "verificationId": verification_id}
    verified = await browser.call("POST", f"{sso_path(connector_id)}/verify", body)
    assert verified.status_code == 200 and verified.json() == {"verificationId": verification_id}, verified.text
    return str(verification_id)


async def oidc_authorization(browser: Browser, connector_id: str) -> tuple[str, dict[str, str]]:
    """The OIDC connector's authorization URI: the new record's id and the URI's query."""
    state = secrets.token_urlsafe(8)
    created = await browser.call(
        "POST", f"{sso_path(connector_id)}/authorization-uri", {"state": state, "redirectUri": SSO_CALLBACK}
    )
    assert created.status_code == 200, created.text
    query = {k: v[0] for k, v in parse_qs(urlsplit(created.json()["authorizationUri"]).query).items()}
    assert query["state"] == state
    return str(created.json()["verificationId"]), query


async def oidc_sso(browser: Browser, provider: FakeProvider, connector_id: str, sub: str, **claims: Any) -> str:
    """The OIDC round trip: the authorization URI, the provider's code for `sub` (with the URI's nonce), the
    verification."""
    verification_id, query = await oidc_authorization(browser, connector_id)
    code = provider.issue_code(sub, SSO_CALLBACK, nonce=query["nonce"], **claims)
    body = {"connectorData": {"code": code, "state": query["state"]}, "verificationId": verification_id}
    verified = await browser.call("POST", f"{sso_path(connector_id)}/verify", body)
    assert verified.status_code == 200 and verified.json() == {"verificationId": verification_id}, verified.text
    return verification_id


async def sso_identities(identity: AsyncClient, auth: dict[str, str], user_id: str) -> list[dict[str, Any]]:
    found = await identity.get(f"/api/users/{user_id}?includeSsoIdentities=true", headers=auth)
    assert found.status_code == 200, found.text
    return list(found.json()["ssoIdentities"])


async def link_sso(db: AsyncEngine, user_id: str, connector_id: str, issuer: str, identity_id: str) -> None:
    async with db.begin() as conn:
        await conn.execute(
            sa.insert(user_sso_identities).values(
                tenant_id="default",
                id=generate_id(),
                user_id=user_id,
                issuer=issuer,
                identity_id=identity_id,
                detail={"id": identity_id},
                sso_connector_id=connector_id,
            )
        )


async def identity_events(db: AsyncEngine, event_type: str, user_id: str) -> list[dict[str, Any]]:
    """The payloads (`data`) of identity's outbox events of this type about this user, oldest first."""
    async with db.connect() as conn:
        rows = await conn.execute(
            sa.select(identity_outbox.c.payload)
            .where(identity_outbox.c.subject.endswith(f".identity.{event_type}"))
            .order_by(identity_outbox.c.id)
        )
        events = [msgspec.json.decode(payload) for payload in rows.scalars()]
    return [e["data"] for e in events if e.get("subject") == user_id]


async def test_a_saml_sso_user_signs_in_to_submit_without_mfa_and_gets_the_synced_profile(
    client: AsyncClient, identity: AsyncClient, db: AsyncEngine, auth: dict[str, str]
) -> None:
    await sso_experience(db)
    idp = saml_idp()
    connector_id = await saml_connector(db, idp, sync_profile=True)
    user = await make_user(identity, auth, name="Old Name")
    name_id = f"ada-{generate_id()[:8]}"
    await link_sso(db, user["id"], connector_id, idp.entity_id, name_id)
    async with db.begin() as conn:  # an MFA factor: an SSO sign-in does not ask for it
        factor = {"id": "f1", "type": "Totp", "key": "JBSWY3DPEHPK3PXP", "createdAt": "2026-01-01T00:00:00Z"}
        await conn.execute(sa.update(users).where(users.c.id == user["id"]).values(mfa_verifications=[factor]))

    browser = await started(identity, client, db, "SignIn")
    attributes = {"mail": f"ada{secrets.token_hex(3)}@elsewhere.example", "displayName": "Ada Lovelace"}
    verification_id = await saml_sso(browser, idp, connector_id, name_id, attributes)
    # the IdP's answer was handed over once: verifying again finds no session
    again = {"connectorData": {}, "verificationId": verification_id}
    error(
        await browser.call("POST", f"{sso_path(connector_id)}/verify", again),
        400,
        "session.connector_validation_session_not_found",
    )
    identified = await browser.call("POST", IDENTIFY, {"verificationId": verification_id})
    assert identified.status_code == 204, identified.text
    state = (await browser.call("GET", "/api/experience/interaction")).json()
    assert state["userId"] == user["id"]
    assert state["verificationRecords"] == [
        {"id": verification_id, "type": "EnterpriseSso", "verified": True, "connectorId": connector_id}
    ]
    synced = state["profile"]["syncedEnterpriseSsoIdentity"]
    assert (synced["issuer"], synced["identityId"], synced["ssoConnectorId"]) == (idp.entity_id, name_id, connector_id)
    assert state["profile"]["name"] == "Ada Lovelace" and "enterpriseSsoIdentity" not in state["profile"]

    assert await browser.finish()
    after = (await identity.get(f"/api/users/{user['id']}", headers=auth)).json()
    assert after["name"] == "Ada Lovelace" and after["primaryEmail"] == user["primaryEmail"]
    [kept] = await sso_identities(identity, auth, user["id"])
    assert kept["detail"]["email"] == attributes["mail"] and kept["detail"]["name"] == "Ada Lovelace"


async def test_the_first_sso_sign_in_links_the_user_with_the_idp_s_email(
    client: AsyncClient, identity: AsyncClient, db: AsyncEngine, auth: dict[str, str]
) -> None:
    await sso_experience(db)
    idp = saml_idp()
    connector_id = await saml_connector(db, idp)
    user = await make_user(identity, auth, name="Kept")
    name_id = f"bob-{generate_id()[:8]}"
    browser = await started(identity, client, db, "SignIn")
    # the IdP's email matches the user's whatever its case
    attributes = {"mail": user["primaryEmail"].upper(), "displayName": "Bob IdP"}
    verification_id = await saml_sso(browser, idp, connector_id, name_id, attributes)
    identified = await browser.call("POST", IDENTIFY, {"verificationId": verification_id})
    assert identified.status_code == 204, identified.text
    profile = (await browser.call("GET", "/api/experience/interaction")).json()["profile"]
    assert profile["enterpriseSsoIdentity"]["identityId"] == name_id and "name" not in profile  # no syncProfile
    assert await sso_identities(identity, auth, user["id"]) == []  # linked at submit
    await browser.finish()
    [linked] = await sso_identities(identity, auth, user["id"])
    assert (linked["issuer"], linked["identityId"], linked["ssoConnectorId"]) == (idp.entity_id, name_id, connector_id)
    assert (await identity.get(f"/api/users/{user['id']}", headers=auth)).json()["name"] == "Kept"
    # the link is announced for organizations' just-in-time provisioning by the connector
    linked_events = await identity_events(db, "User.SsoIdentity.Linked", user["id"])
    assert linked_events == [{"userId": user["id"], "ssoConnectorId": connector_id}]

    # the next sign-in finds the user by the identity, even with another email at the IdP
    again = await started(identity, client, db, "SignIn")
    verification_id = await saml_sso(again, idp, connector_id, name_id, {"mail": "moved@elsewhere.example"})
    identified = await again.call("POST", IDENTIFY, {"verificationId": verification_id})
    assert identified.status_code == 204, identified.text
    state = (await again.call("GET", "/api/experience/interaction")).json()
    assert state["userId"] == user["id"] and "syncedEnterpriseSsoIdentity" in state["profile"]
    await again.finish()
    [refreshed] = await sso_identities(identity, auth, user["id"])
    assert refreshed["detail"]["email"] == "moved@elsewhere.example"
    assert len(await identity_events(db, "User.SsoIdentity.Linked", user["id"])) == 1  # linked once only

    # a suspended user is 401
    suspended = await identity.patch(f"/api/users/{user['id']}/is-suspended", json={"isSuspended": True}, headers=auth)
    assert suspended.status_code == 200
    blocked = await started(identity, client, db, "SignIn")
    verification_id = await saml_sso(blocked, idp, connector_id, name_id, {})
    error(await blocked.call("POST", IDENTIFY, {"verificationId": verification_id}), 401, "user.suspended")


async def test_an_unknown_sso_user_is_404_on_sign_in_then_registers(
    client: AsyncClient, identity: AsyncClient, db: AsyncEngine, auth: dict[str, str]
) -> None:
    await sso_experience(db)
    idp = saml_idp()
    connector_id = await saml_connector(db, idp)
    name_id, email = f"cy-{generate_id()[:8]}", f"cy{secrets.token_hex(4)}@corp.example"
    browser = await started(identity, client, db, "SignIn")
    attributes = {"mail": email, "displayName": "Cy New"}
    verification_id = await saml_sso(browser, idp, connector_id, name_id, attributes)
    error(await browser.call("POST", IDENTIFY, {"verificationId": verification_id}), 404, "user.identity_not_exist")

    # the client switches to `Register` and identifies with the same record: the sign-up's username and password
    # are not asked for
    switched = await browser.call("PUT", "/api/experience/interaction-event", {"interactionEvent": "Register"})
    assert switched.status_code == 204, switched.text
    created = await browser.call("POST", IDENTIFY, {"verificationId": verification_id})
    assert created.status_code == 201, created.text
    user_id = (await browser.call("GET", "/api/experience/interaction")).json()["userId"]
    await browser.finish()
    user = (await identity.get(f"/api/users/{user_id}", headers=auth)).json()
    assert (user["primaryEmail"], user["name"], user["username"], user["hasPassword"]) == (email, "Cy New", None, False)
    [kept] = await sso_identities(identity, auth, user_id)
    assert (kept["issuer"], kept["identityId"], kept["detail"]["email"]) == (idp.entity_id, name_id, email)
    # the registration names its connector, for organizations' just-in-time provisioning
    registered = await identity_events(db, "User.Registered", user_id)
    assert registered == [{"userId": user_id, "primaryEmail": email, "ssoConnectorId": connector_id}]

    # the identity signs in now; registering it again is 422, as is another identity with a taken email
    signing_in = await started(identity, client, db, "SignIn")
    verification_id = await saml_sso(signing_in, idp, connector_id, name_id, attributes)
    identified = await signing_in.call("POST", IDENTIFY, {"verificationId": verification_id})
    assert identified.status_code == 204 and (await signing_in.finish())
    registering = await started(identity, client, db, "Register")
    verification_id = await saml_sso(registering, idp, connector_id, name_id, {})
    error(
        await registering.call("POST", IDENTIFY, {"verificationId": verification_id}),
        422,
        "user.identity_already_in_use",
    )
    verification_id = await saml_sso(registering, idp, connector_id, f"other-{generate_id()[:8]}", {"mail": email})
    error(
        await registering.call("POST", IDENTIFY, {"verificationId": verification_id}),
        422,
        "user.email_already_in_use",
    )
    # the `SignIn` sign-in mode registers nobody
    await sso_experience(db, mode="SignIn")
    verification_id = await saml_sso(registering, idp, connector_id, f"late-{generate_id()[:8]}", {})
    error(await registering.call("POST", IDENTIFY, {"verificationId": verification_id}), 403, "auth.forbidden")


async def test_sign_in_with_sso_turned_off_is_refused(
    client: AsyncClient, identity: AsyncClient, db: AsyncEngine, auth: dict[str, str]
) -> None:
    await sso_experience(db, enabled=False)
    idp = saml_idp()
    domain = new_domain()
    connector_id = await saml_connector(db, idp, domains=[domain])
    user = await make_user(identity, auth)
    name_id = f"dee-{generate_id()[:8]}"
    await link_sso(db, user["id"], connector_id, idp.entity_id, name_id)
    browser = await started(identity, client, db, "SignIn")
    # the authorization URI and the verification do not check the setting, the sign-in does
    verification_id = await saml_sso(browser, idp, connector_id, name_id, {})
    error(
        await browser.call("POST", IDENTIFY, {"verificationId": verification_id}),
        422,
        "user.sign_in_method_not_enabled",
    )
    found = await client.get("/api/experience/sso-connectors", params={"email": f"dee@{domain}"})
    assert found.status_code == 200 and found.json() == {"connectorIds": []}
    # turned on, the same record signs the user in
    await sso_experience(db)
    identified = await browser.call("POST", IDENTIFY, {"verificationId": verification_id})
    assert identified.status_code == 204, identified.text


async def test_an_oidc_sso_sign_in_checks_the_nonce_and_keeps_only_verified_claims(
    client: AsyncClient, identity: AsyncClient, db: AsyncEngine, auth: dict[str, str], provider: FakeProvider
) -> None:
    await sso_experience(db)
    connector_id = await oidc_connector(db, provider, sync_profile=True)
    browser = await started(identity, client, db, "SignIn")

    verification_id, query = await oidc_authorization(browser, connector_id)
    assert query["client_id"] == CLIENT_ID and query["response_type"] == "code"
    assert query["redirect_uri"] == SSO_CALLBACK and query["nonce"]
    assert set(query["scope"].split()) == {"groups", "openid", "profile", "email"}
    path = sso_path(connector_id)
    sub = f"sub-{generate_id()[:8]}"
    # an ID token for another nonce is refused (401; Logto answers 500 to connector errors), and the record's session
    # is spent: each authorization URI verifies once
    forged = provider.issue_code(sub, SSO_CALLBACK, nonce="another-nonce")
    body = {"connectorData": {"code": forged, "state": query["state"]}, "verificationId": verification_id}
    error(await browser.call("POST", f"{path}/verify", body), 401, "connector.authorization_failed")
    error(await browser.call("POST", f"{path}/verify", body), 400, "session.connector_validation_session_not_found")
    verification_id, query = await oidc_authorization(browser, connector_id)
    error(
        await browser.call("POST", f"{path}/verify", {"connectorData": {}, "verificationId": verification_id}),
        400,
        "connector.invalid_request_parameters",
    )

    email = f"eve{secrets.token_hex(4)}@corp.example"
    user = await make_user(identity, auth, primaryEmail=email)
    verification_id, query = await oidc_authorization(browser, connector_id)
    claims = {"name": "Eve IdP", "picture": AVATAR, "email": email, "email_verified": True, "given_name": "Eve"}
    code = provider.issue_code(sub, SSO_CALLBACK, nonce=query["nonce"], phone="+15550100", **claims)
    body = {"connectorData": {"code": code, "state": query["state"]}, "verificationId": verification_id}
    verified = await browser.call("POST", f"{path}/verify", body)
    assert verified.status_code == 200, verified.text
    # the code is exchanged with client_secret_basic and the authorization request's redirect URI
    exchanged = provider.token_requests[-1]
    assert exchanged["redirect_uri"] == SSO_CALLBACK and "client_secret" not in exchanged
    expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    assert exchanged["authorization"] == f"Basic {expected}"

    identified = await browser.call("POST", IDENTIFY, {"verificationId": verification_id})
    assert identified.status_code == 204, identified.text
    profile = (await browser.call("GET", "/api/experience/interaction")).json()["profile"]
    linked = profile["enterpriseSsoIdentity"]
    assert (linked["issuer"], linked["identityId"]) == (provider.url, sub)  # the configured issuer
    detail = linked["detail"]
    assert (detail["id"], detail["name"], detail["avatar"], detail["email"]) == (sub, "Eve IdP", AVATAR, email)
    assert detail["givenName"] == "Eve" and "phone" not in detail  # an unverified phone is dropped
    assert (profile["name"], profile["avatar"]) == ("Eve IdP", AVATAR)
    await browser.finish()
    [kept] = await sso_identities(identity, auth, user["id"])
    assert (kept["issuer"], kept["identityId"]) == (provider.url, sub)
    after = (await identity.get(f"/api/users/{user['id']}", headers=auth)).json()
    assert (after["name"], after["avatar"]) == ("Eve IdP", AVATAR)

    # an unverified email names nobody: an identity nobody has is 404
    stranger = await started(identity, client, db, "SignIn")
    verification_id = await oidc_sso(
        stranger, provider, connector_id, f"sub-{generate_id()[:8]}", email=email, email_verified=False
    )
    error(await stranger.call("POST", IDENTIFY, {"verificationId": verification_id}), 404, "user.identity_not_exist")
    # an ID token without a nonce passes, as Logto's
    verification_id, query = await oidc_authorization(stranger, connector_id)
    code = provider.issue_code(sub, SSO_CALLBACK)
    body = {"connectorData": {"code": code}, "verificationId": verification_id}
    assert (await stranger.call("POST", f"{path}/verify", body)).status_code == 200
    identified = await stranger.call("POST", IDENTIFY, {"verificationId": verification_id})
    assert identified.status_code == 204, identified.text


async def test_each_sso_step_refuses_what_it_must(
    client: AsyncClient, identity: AsyncClient, db: AsyncEngine, provider: FakeProvider
) -> None:
    await sso_experience(db)
    connector_id = await oidc_connector(db, provider)
    other_id = await oidc_connector(db, provider)
    unreachable = await sso_connector(
        db, "Okta", {"clientId": "c", "clientSecret": "s", "issuer": "http://127.0.0.1:9"}
    )
    broken = await sso_connector(db, "OIDC", {"issuer": provider.url})
    unknown_provider = await sso_connector(db, "Retired", {})
    uri_body = {"state": "s", "redirectUri": SSO_CALLBACK}
    path = sso_path(connector_id)

    nobody = Browser(identity, client)
    error(await nobody.call("POST", f"{path}/authorization-uri", uri_body), 404, "session.not_found")
    browser = await started(identity, client, db, "SignIn")
    error(await browser.call("POST", f"{path}/authorization-uri", {"state": "s"}), 400, "guard.invalid_input")
    error(
        await browser.call("POST", f"{path}/authorization-uri", {"state": "", "redirectUri": SSO_CALLBACK}),
        400,
        "session.insufficient_info",
    )
    for missing, status, code in (
        ("no-such-connector", 404, "entity.not_exists_with_id"),
        (unknown_provider, 404, "connector.not_found"),
        (unreachable, 400, "connector.invalid_config"),
        (broken, 400, "connector.invalid_config"),
    ):
        error(await browser.call("POST", f"{sso_path(missing)}/authorization-uri", uri_body), status, code)

    verification_id, _ = await oidc_authorization(browser, connector_id)
    # not verified yet: it identifies nobody
    error(await browser.call("POST", IDENTIFY, {"verificationId": verification_id}), 400, "session.verification_failed")
    error(await browser.call("POST", f"{path}/verify", {"connectorData": {}}), 400, "guard.invalid_input")
    for record, connector in (("unknown", connector_id), (verification_id, other_id)):
        error(
            await browser.call(
                "POST", f"{sso_path(connector)}/verify", {"connectorData": {"code": "c"}, "verificationId": record}
            ),
            404,
            "session.verification_session_not_found",
        )
    # a new authorization URI replaces the record (Logto keeps one record of a type)
    replaced, _ = await oidc_authorization(browser, connector_id)
    records = (await browser.call("GET", "/api/experience/interaction")).json()["verificationRecords"]
    assert [r["id"] for r in records] == [replaced]


async def test_the_sso_connectors_of_an_email_domain(client: AsyncClient, db: AsyncEngine) -> None:
    await sso_experience(db)
    domain = new_domain()
    idp = saml_idp()
    first = await saml_connector(db, idp, domains=[domain, new_domain()])
    second = await sso_connector(
        db, "GoogleWorkspace", {"clientId": "c", "clientSecret": "s"}, domains=[domain.upper()]
    )
    await sso_connector(db, "Retired", {}, domains=[domain])  # a provider Gatehouse does not know
    await sso_connector(db, "OIDC", {"clientId": "c"}, domains=[domain])  # a config its provider refuses
    await sso_connector(db, "SAML", {"metadata": idp.metadata()}, domains=[])  # no domain

    async def lookup(email: str) -> Any:
        return await client.get("/api/experience/sso-connectors", params={"email": email})

    found = await lookup(f"ann@{domain}")  # anonymous: no interaction needed
    assert found.status_code == 200 and found.json() == {"connectorIds": [first, second]}, found.text
    assert (await lookup(f"ann@sub.{domain}")).json() == {"connectorIds": []}  # the whole domain, not a suffix
    assert (await lookup("ann@nowhere.example")).json() == {"connectorIds": []}
    for bad in ("ann", "ann@", f"@{domain}", "ann@@corp.example"):
        error(await lookup(bad), 400, "guard.invalid_input")
    error(await client.get("/api/experience/sso-connectors"), 400, "guard.invalid_input")
    await sso_experience(db, enabled=False)
    assert (await lookup(f"ann@{domain}")).json() == {"connectorIds": []}


async def test_a_password_sign_in_with_an_email_of_an_sso_domain_is_refused(
    client: AsyncClient, identity: AsyncClient, db: AsyncEngine, auth: dict[str, str]
) -> None:
    await sso_experience(db)
    domain = new_domain()
    connector_id = await saml_connector(db, saml_idp(), domains=[domain])
    user = await make_user(identity, auth, primaryEmail=f"fay{secrets.token_hex(3)}@{domain}")
    browser = await started(identity, client, db, "SignIn")
    body = {"identifier": {"type": "email", "value": user["primaryEmail"]}, "password": PASSWORD}
    verified = await browser.call("POST", "/api/experience/verification/password", body)
    assert verified.status_code == 200, verified.text
    refused = error(await browser.call("POST", IDENTIFY, verified.json()), 422, "session.sso_enabled")
    [named] = refused["data"]["ssoConnectors"]
    assert named["id"] == connector_id and named["connectorName"] == f"sso-{connector_id}" and "config" not in named
    # the username still signs in with the password; and with SSO off, so does the email
    body = {"identifier": {"type": "username", "value": user["username"]}, "password": PASSWORD}
    verified = await browser.call("POST", "/api/experience/verification/password", body)
    assert (await browser.call("POST", IDENTIFY, verified.json())).status_code == 204
    await sso_experience(db, enabled=False)
    again = await started(identity, client, db, "SignIn")
    body = {"identifier": {"type": "email", "value": user["primaryEmail"]}, "password": PASSWORD}
    verified = await again.call("POST", "/api/experience/verification/password", body)
    assert (await again.call("POST", IDENTIFY, verified.json())).status_code == 204
