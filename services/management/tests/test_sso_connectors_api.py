"""Enterprise SSO connectors: the providers, Logto's rules for creating, reading, updating and deleting
connectors, the IdP settings derived from their config, the SAML connectors' SP signing keys, the
`SsoConnector.*` events and the cross-context reads identity and experience use."""

import hashlib
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest
import pytest_asyncio
import sqlalchemy as sa
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from gatehouse_management.domain import sso_signing_keys
from gatehouse_management.seed import seed_tenant
from gatehouse_platform.db import create_engine
from gatehouse_schema.queries.management import active_saml_signing_key, sso_connector, sso_connectors
from gatehouse_schema.tables.management import outbox, saml_sso_connector_signing_keys
from gatehouse_schema.tables.management import sso_connectors as sso_connectors_table
from httpx import AsyncClient, Response
from sqlalchemy.ext.asyncio import AsyncEngine

PATH = "/api/sso-connectors"
PUBLIC_URL = "http://127.0.0.1:3001"  # the test settings' public URL
SECRET = "idp-client-secret-never-published"
OIDC_CONFIG = {"clientId": "gatehouse", "clientSecret": SECRET, "issuer": "https://idp.example", "scope": "groups"}
SHA512 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512"


def _idp_certificate(not_after: datetime) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "idp.example")])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(datetime(2024, 1, 1, tzinfo=UTC))
        .not_valid_after(not_after)
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


IDP_CERTIFICATE = _idp_certificate(datetime(2099, 1, 1, tzinfo=UTC))
EXPIRED_CERTIFICATE = _idp_certificate(datetime(2024, 6, 1, tzinfo=UTC))
CERTIFICATE_BODY = "".join(IDP_CERTIFICATE.strip().splitlines()[1:-1])


def metadata_xml(certificate_body: str = CERTIFICATE_BODY) -> str:
    return f"""<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.example/saml">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing">
      <ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
        <ds:X509Data><ds:X509Certificate>
          {certificate_body}
        </ds:X509Certificate></ds:X509Data>
      </ds:KeyInfo>
    </md:KeyDescriptor>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://idp.example/post"/>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
                            Location="https://idp.example/sso"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>"""


MANUAL_SAML_CONFIG = {
    "entityId": "https://idp.example/saml",
    "signInEndpoint": "https://idp.example/sso",
    "x509Certificate": IDP_CERTIFICATE,
}


@pytest.fixture(autouse=True)
def fast_keys(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """2048-bit SP keys keep the suite fast; one test checks Logto's 4096 bits."""
    monkeypatch.setattr(sso_signing_keys, "KEY_SIZE", 2048)
    yield


@pytest_asyncio.fixture(autouse=True)
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """The seeded tenant with no SSO connectors."""
    engine = create_engine(database_url, pool_size=1)
    await seed_tenant(engine, "default")
    async with engine.begin() as conn:
        await conn.execute(sa.delete(sso_connectors_table))
    yield engine
    await engine.dispose()


def error(response: Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code, body
    return dict(body)


async def create(client: AsyncClient, auth: dict[str, str], **body: Any) -> Response:
    return await client.post(PATH, json=body, headers=auth)


async def connector(
    client: AsyncClient, auth: dict[str, str], provider: str = "OIDC", name: str = "Acme", **body: Any
) -> dict[str, Any]:
    if "config" not in body:
        body["config"] = OIDC_CONFIG if provider != "SAML" else MANUAL_SAML_CONFIG
    response = await create(client, auth, providerName=provider, connectorName=name, **body)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def saml(client: AsyncClient, auth: dict[str, str], name: str = "Acme SAML", **body: Any) -> dict[str, Any]:
    return await connector(client, auth, "SAML", name, **body)


async def patch(client: AsyncClient, auth: dict[str, str], id: str, **body: Any) -> Response:
    return await client.patch(f"{PATH}/{id}", json=body, headers=auth)


async def new_key(client: AsyncClient, auth: dict[str, str], id: str, **body: Any) -> dict[str, Any]:
    response = await client.post(f"{PATH}/{id}/signing-keys", json=body, headers=auth)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def set_key(client: AsyncClient, auth: dict[str, str], id: str, key_id: str, active: bool) -> Response:
    return await client.patch(f"{PATH}/{id}/signing-keys/{key_id}", json={"active": active}, headers=auth)


async def key_list(client: AsyncClient, auth: dict[str, str], id: str) -> list[dict[str, Any]]:
    response = await client.get(f"{PATH}/{id}/signing-keys", headers=auth)
    assert response.status_code == 200, response.text
    return list(response.json())


async def sso_events(engine: AsyncEngine) -> list[dict[str, Any]]:
    query = sa.select(outbox.c.payload).where(outbox.c.subject.like("%.SsoConnector.%")).order_by(outbox.c.id)
    async with engine.connect() as conn:
        return [msgspec.json.decode(payload) for payload in (await conn.execute(query)).scalars()]


# --- providers


async def test_the_providers_are_logtos_six_with_their_protocols(client: AsyncClient, auth: dict[str, str]) -> None:
    response = await client.get("/api/sso-connector-providers", headers=auth)
    assert response.status_code == 200, response.text
    providers = response.json()
    assert [(p["providerName"], p["providerType"], p["name"]) for p in providers] == [
        ("OIDC", "oidc", "OIDC"),
        ("SAML", "saml", "SAML"),
        ("AzureAD", "saml", "Microsoft Entra ID (SAML)"),
        ("AzureAdOidc", "oidc", "Microsoft Entra ID (OIDC)"),
        ("GoogleWorkspace", "oidc", "Google Workspace"),
        ("Okta", "oidc", "Okta"),
    ]
    for provider in providers:
        assert set(provider) == {"providerName", "providerType", "logo", "logoDark", "description", "name"}
        assert provider["logo"].startswith("data:image/svg+xml;base64,") and provider["description"]


# --- create


async def test_create_answers_the_stored_connector(client: AsyncClient, auth: dict[str, str]) -> None:
    body = await connector(
        client,
        auth,
        domains=["acme.example"],
        branding={"displayName": "Acme", "logo": "https://acme.example/logo.svg", "unknown": "dropped"},
        syncProfile=True,
    )
    assert set(body) == {
        *("tenantId", "id", "providerName", "connectorName", "config", "domains", "branding"),
        *("syncProfile", "enableTokenStorage", "createdAt"),
    }
    assert body["tenantId"] == "default" and len(body["id"]) == 12
    assert (body["providerName"], body["connectorName"]) == ("OIDC", "Acme")
    assert body["config"] == OIDC_CONFIG
    assert body["domains"] == ["acme.example"]
    assert body["branding"] == {"displayName": "Acme", "logo": "https://acme.example/logo.svg"}
    assert (body["syncProfile"], body["enableTokenStorage"]) == (True, False)
    assert abs(body["createdAt"] / 1000 - datetime.now(UTC).timestamp()) < 60


async def test_create_without_config_domains_or_branding_stores_empty_ones(
    client: AsyncClient, auth: dict[str, str]
) -> None:
    response = await create(client, auth, providerName="SAML", connectorName="Later")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["config"], body["domains"], body["branding"], body["syncProfile"]) == ({}, [], {}, False)


async def test_an_unknown_provider_is_422_connector_not_found(client: AsyncClient, auth: dict[str, str]) -> None:
    error(await create(client, auth, providerName="Auth0", connectorName="x"), 422, "connector.not_found")


async def test_provider_and_connector_names_are_required_and_at_most_128_long(
    client: AsyncClient, auth: dict[str, str]
) -> None:
    error(await create(client, auth, providerName="OIDC"), 400, "guard.invalid_input")
    error(await create(client, auth, providerName="OIDC", connectorName=""), 400, "guard.invalid_input")
    error(await create(client, auth, providerName="OIDC", connectorName="x" * 129), 400, "guard.invalid_input")
    error(await create(client, auth, providerName="", connectorName="x"), 400, "guard.invalid_input")


async def test_a_connector_name_is_unique_in_the_tenant(client: AsyncClient, auth: dict[str, str]) -> None:
    await connector(client, auth, name="Acme")
    error(
        await create(client, auth, providerName="SAML", connectorName="Acme"),
        409,
        "single_sign_on.duplicate_connector_name",
    )


async def test_public_or_repeated_email_domains_are_422(client: AsyncClient, auth: dict[str, str]) -> None:
    body = {"providerName": "OIDC", "connectorName": "Acme"}
    response = await create(client, auth, **body, domains=["acme.example", "gmail.com", "qq.com"])
    assert error(response, 422, "single_sign_on.forbidden_domains")["data"] == ["gmail.com", "qq.com"]
    response = await create(client, auth, **body, domains=["a.example", "b.example", "a.example", "a.example"])
    assert error(response, 422, "single_sign_on.duplicated_domains")["data"] == ["a.example"]


async def test_the_config_is_checked_by_the_providers_guard_and_stored_without_unknown_keys(
    client: AsyncClient, auth: dict[str, str]
) -> None:
    body = {"providerName": "OIDC", "connectorName": "Acme"}
    missing = {k: v for k, v in OIDC_CONFIG.items() if k != "clientSecret"}
    error(await create(client, auth, **body, config=missing), 400, "connector.invalid_config")
    error(await create(client, auth, **body, config={}), 400, "connector.invalid_config")
    error(await create(client, auth, **body, config={**OIDC_CONFIG, "scope": None}), 400, "connector.invalid_config")
    created = await connector(client, auth, config={**OIDC_CONFIG, "extra": "dropped"})
    assert created["config"] == OIDC_CONFIG
    google = await connector(client, auth, "GoogleWorkspace", "Google", config=OIDC_CONFIG)
    assert google["config"] == {"clientId": "gatehouse", "clientSecret": SECRET, "scope": "groups"}  # no issuer


async def test_a_saml_config_takes_the_first_of_logtos_three_shapes_it_fits(
    client: AsyncClient, auth: dict[str, str]
) -> None:
    both = {"metadataUrl": "https://idp.example/metadata", "metadata": "<x/>", "attributeMapping": {"id": "uid"}}
    assert (await saml(client, auth, "By URL", config=both))["config"] == {
        "metadataUrl": "https://idp.example/metadata",
        "attributeMapping": {"id": "uid"},
    }
    manual = {**MANUAL_SAML_CONFIG, "signAuthnRequest": False, "requestSignatureAlgorithm": SHA512}
    assert (await saml(client, auth, "Manual", config=manual))["config"] == manual
    partial = {"entityId": "https://idp.example/saml", "signInEndpoint": "https://idp.example/sso"}
    error(
        await create(client, auth, providerName="SAML", connectorName="x", config=partial),
        400,
        "connector.invalid_config",
    )
    sha1 = {**MANUAL_SAML_CONFIG, "requestSignatureAlgorithm": "http://www.w3.org/2000/09/xmldsig#rsa-sha1"}
    error(
        await create(client, auth, providerName="SAML", connectorName="x", config=sha1), 400, "connector.invalid_config"
    )


async def test_saml_metadata_and_certificates_must_read(client: AsyncClient, auth: dict[str, str]) -> None:
    body = {"providerName": "AzureAD", "connectorName": "Entra"}
    error(await create(client, auth, **body, config={"metadata": "<not xml"}), 400, "connector.invalid_metadata")
    no_idp = '<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"/>'
    error(await create(client, auth, **body, config={"metadata": no_idp}), 400, "connector.invalid_metadata")
    doctype = '<!DOCTYPE x [<!ENTITY a "aaaa">]>' + metadata_xml()
    error(await create(client, auth, **body, config={"metadata": doctype}), 400, "connector.invalid_metadata")
    bad_certificate = {"metadata": metadata_xml("bm90IGEgY2VydGlmaWNhdGU=")}
    error(await create(client, auth, **body, config=bad_certificate), 400, "connector.invalid_certificate")
    manual = {**MANUAL_SAML_CONFIG, "x509Certificate": "garbage"}
    error(await create(client, auth, **body, config=manual), 400, "connector.invalid_certificate")
    assert (await connector(client, auth, "AzureAD", "Entra", config={"metadata": metadata_xml()}))["id"]


async def test_a_new_connector_cannot_sign_authn_requests(client: AsyncClient, auth: dict[str, str]) -> None:
    config = {"metadata": metadata_xml(), "signAuthnRequest": True}
    response = await create(client, auth, providerName="SAML", connectorName="Signed", config=config)
    error(response, 400, "single_sign_on.active_signing_key_required")
    # an OIDC config has no such field: it is dropped
    oidc = await connector(client, auth, config={**OIDC_CONFIG, "signAuthnRequest": True})
    assert "signAuthnRequest" not in oidc["config"]


# --- read


async def test_get_adds_the_providers_details_and_the_derived_oidc_config(
    client: AsyncClient, auth: dict[str, str]
) -> None:
    created = await connector(client, auth, "Okta")
    response = await client.get(f"{PATH}/{created['id']}", headers=auth)
    assert response.status_code == 200, response.text
    body = response.json()
    assert {k: body[k] for k in created} == created
    assert (body["name"], body["providerType"]) == ("Okta", "oidc")
    assert body["providerLogo"].startswith("data:image/svg+xml") and body["providerLogoDark"]
    assert body["providerConfig"] == {**OIDC_CONFIG, "scope": "openid profile email groups"}
    google = await connector(client, auth, "GoogleWorkspace", "Google", config={"clientId": "g", "clientSecret": "s"})
    derived = (await client.get(f"{PATH}/{google['id']}", headers=auth)).json()["providerConfig"]
    assert derived == {
        "clientId": "g",
        "clientSecret": "s",
        "issuer": "https://accounts.google.com",
        "scope": "openid profile email",
    }


async def test_a_saml_connectors_provider_config_names_its_sp_urls_and_its_idp(
    client: AsyncClient, auth: dict[str, str]
) -> None:
    manual = await saml(client, auth, "Manual")
    body = (await client.get(f"{PATH}/{manual['id']}", headers=auth)).json()
    assert (body["name"], body["providerType"]) == ("SAML", "saml")
    derived = body["providerConfig"]
    assert derived["defaultAttributeMapping"] == {"id": "nameID", "email": "email", "name": "name"}
    assert derived["serviceProvider"] == {
        "entityId": f"{PUBLIC_URL}/enterprise-sso/{manual['id']}",
        "assertionConsumerServiceUrl": f"{PUBLIC_URL}/api/authn/single-sign-on/saml/{manual['id']}",
    }
    idp = derived["identityProvider"]
    assert (idp["entityId"], idp["signInEndpoint"]) == ("https://idp.example/saml", "https://idp.example/sso")
    assert idp["x509Certificate"] == IDP_CERTIFICATE
    assert idp["certificateExpiresAt"] == int(datetime(2099, 1, 1, tzinfo=UTC).timestamp() * 1000)
    assert idp["isCertificateValid"] is True

    from_xml = await saml(client, auth, "XML", config={"metadata": metadata_xml()})
    idp = (await client.get(f"{PATH}/{from_xml['id']}", headers=auth)).json()["providerConfig"]["identityProvider"]
    assert (idp["signInEndpoint"], idp["x509Certificate"]) == ("https://idp.example/sso", IDP_CERTIFICATE)

    expired = await saml(client, auth, "Expired", config={**MANUAL_SAML_CONFIG, "x509Certificate": EXPIRED_CERTIFICATE})
    idp = (await client.get(f"{PATH}/{expired['id']}", headers=auth)).json()["providerConfig"]["identityProvider"]
    assert idp["isCertificateValid"] is False

    by_url = await saml(client, auth, "URL", config={"metadataUrl": "https://idp.example/metadata"})
    derived = (await client.get(f"{PATH}/{by_url['id']}", headers=auth)).json()["providerConfig"]
    assert "identityProvider" not in derived and derived["serviceProvider"]["entityId"].endswith(by_url["id"])


async def test_a_connector_without_a_valid_config_has_no_provider_config(
    client: AsyncClient, auth: dict[str, str]
) -> None:
    response = await create(client, auth, providerName="OIDC", connectorName="Later")
    body = (await client.get(f"{PATH}/{response.json()['id']}", headers=auth)).json()
    assert "providerConfig" not in body and body["providerType"] == "oidc"


async def test_an_unknown_connector_is_404(client: AsyncClient, auth: dict[str, str]) -> None:
    for method in ("GET", "PATCH", "DELETE"):
        response = await client.request(method, f"{PATH}/nope", json={} if method == "PATCH" else None, headers=auth)
        error(response, 404, "entity.not_exists_with_id")


async def test_the_list_is_in_creation_order_and_paged_with_total_number(
    client: AsyncClient, auth: dict[str, str]
) -> None:
    ids = [(await connector(client, auth, name=f"C{i}"))["id"] for i in range(3)]
    response = await client.get(PATH, headers=auth)
    assert response.status_code == 200, response.text
    assert [c["id"] for c in response.json()] == ids and "total-number" not in response.headers
    assert all(c["providerType"] == "oidc" and "providerConfig" in c for c in response.json())
    response = await client.get(PATH, params={"page": 2, "page_size": 2}, headers=auth)
    assert [c["id"] for c in response.json()] == ids[2:] and response.headers["total-number"] == "3"
    error(await client.get(PATH, params={"page": 0}, headers=auth), 400, "guard.invalid_pagination")


# --- update


async def test_patch_replaces_config_domains_and_branding_whole(client: AsyncClient, auth: dict[str, str]) -> None:
    created = await connector(client, auth, domains=["a.example"], branding={"displayName": "A", "logo": "x"})
    new_config = {"clientId": "other", "clientSecret": "s2", "issuer": "https://other.example", "junk": 1}
    response = await patch(
        client, auth, created["id"], config=new_config, domains=["b.example"], branding={"darkLogo": "d"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["config"] == {"clientId": "other", "clientSecret": "s2", "issuer": "https://other.example"}
    assert (body["domains"], body["branding"]) == (["b.example"], {"darkLogo": "d"})
    assert body["providerConfig"]["scope"] == "openid profile email"
    response = await patch(client, auth, created["id"], syncProfile=True, enableTokenStorage=True)
    assert (response.json()["syncProfile"], response.json()["enableTokenStorage"]) == (True, True)
    assert response.json()["config"] == body["config"]


async def test_patch_naming_only_domains_writes_them(client: AsyncClient, auth: dict[str, str]) -> None:
    created = await connector(client, auth)
    response = await patch(client, auth, created["id"], domains=["acme.example"])
    assert response.json()["domains"] == ["acme.example"]


async def test_patch_checks_domains_config_and_name(client: AsyncClient, auth: dict[str, str]) -> None:
    await connector(client, auth, name="Taken")
    created = await connector(client, auth, name="Mine")
    id = created["id"]
    error(await patch(client, auth, id, domains=["outlook.com"]), 422, "single_sign_on.forbidden_domains")
    error(await patch(client, auth, id, config={"clientId": "x"}), 400, "connector.invalid_config")
    error(await patch(client, auth, id, connectorName="Taken"), 409, "single_sign_on.duplicate_connector_name")
    error(await patch(client, auth, id, connectorName=""), 400, "guard.invalid_input")
    assert (await patch(client, auth, id, connectorName="Mine")).status_code == 200
    assert (await patch(client, auth, id, connectorName="Renamed")).json()["connectorName"] == "Renamed"
    saml_connector = await saml(client, auth)
    response = await patch(client, auth, saml_connector["id"], config={"metadata": "<broken"})
    error(response, 400, "connector.invalid_metadata")


async def test_an_empty_patch_changes_nothing_and_publishes_nothing(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine
) -> None:
    created = await connector(client, auth)
    before = len(await sso_events(engine))
    response = await patch(client, auth, created["id"])
    assert response.status_code == 200 and response.json()["connectorName"] == "Acme"
    assert len(await sso_events(engine)) == before


async def test_signed_authn_requests_need_an_active_signing_key(client: AsyncClient, auth: dict[str, str]) -> None:
    created = await saml(client, auth)
    signed = {**MANUAL_SAML_CONFIG, "signAuthnRequest": True}
    error(await patch(client, auth, created["id"], config=signed), 400, "single_sign_on.active_signing_key_required")
    await new_key(client, auth, created["id"])  # inactive: not enough
    error(await patch(client, auth, created["id"], config=signed), 400, "single_sign_on.active_signing_key_required")
    await new_key(client, auth, created["id"], active=True)
    response = await patch(client, auth, created["id"], config=signed)
    assert response.status_code == 200 and response.json()["config"]["signAuthnRequest"] is True
    # a patch that does not touch the config keeps signing; one that omits the flag turns it off
    assert (await patch(client, auth, created["id"], connectorName="Renamed")).json()["config"] == signed
    assert (
        "signAuthnRequest" not in (await patch(client, auth, created["id"], config=MANUAL_SAML_CONFIG)).json()["config"]
    )


# --- delete


async def test_delete_answers_204_and_takes_the_signing_keys_along(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine
) -> None:
    created = await saml(client, auth)
    await new_key(client, auth, created["id"], active=True)
    response = await client.delete(f"{PATH}/{created['id']}", headers=auth)
    assert response.status_code == 204, response.text
    error(await client.get(f"{PATH}/{created['id']}", headers=auth), 404, "entity.not_exists_with_id")
    async with engine.connect() as conn:
        keys = saml_sso_connector_signing_keys
        assert (await conn.execute(sa.select(sa.func.count()).select_from(keys))).scalar_one() == 0


# --- signing keys


async def test_a_new_signing_key_is_inactive_and_shows_no_private_key(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine
) -> None:
    created = await saml(client, auth)
    key = await new_key(client, auth, created["id"])
    assert set(key) == {"id", "certificate", "createdAt", "expiresAt", "active", "fingerprints"}
    assert key["active"] is False and len(key["id"]) == 21
    certificate = x509.load_pem_x509_certificate(key["certificate"].encode())
    digest = hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).hexdigest().upper()
    assert key["fingerprints"]["sha256"] == {
        "unformatted": digest,
        "formatted": ":".join(digest[i : i + 2] for i in range(0, 64, 2)),
    }
    assert key["expiresAt"] == int(certificate.not_valid_after_utc.timestamp() * 1000)
    assert certificate.not_valid_after_utc - certificate.not_valid_before_utc >= timedelta(days=3 * 365)
    assert certificate.issuer == certificate.subject  # self-signed
    async with engine.connect() as conn:
        stored = await active_saml_signing_key(conn, "default", created["id"])
        assert stored is None  # inactive
        row = (await conn.execute(sa.select(saml_sso_connector_signing_keys))).one()
    private_key = serialization.load_pem_private_key(row.private_key.encode(), password=None)
    assert private_key.public_key().public_numbers() == certificate.public_key().public_numbers()  # type: ignore[union-attr]
    assert row.private_key not in (await client.get(f"{PATH}/{created['id']}/signing-keys", headers=auth)).text


async def test_keys_are_logtos_4096_bit_rsa(
    client: AsyncClient, auth: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sso_signing_keys, "KEY_SIZE", 4096)
    created = await saml(client, auth)
    key = await new_key(client, auth, created["id"])
    public_key = x509.load_pem_x509_certificate(key["certificate"].encode()).public_key()
    assert isinstance(public_key, rsa.RSAPublicKey) and public_key.key_size == 4096


async def test_a_key_created_active_takes_over_and_one_key_at_most_is_active(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine
) -> None:
    id = (await saml(client, auth))["id"]
    first = await new_key(client, auth, id, active=True)
    second = await new_key(client, auth, id, active=True)
    assert [(k["id"], k["active"]) for k in await key_list(client, auth, id)] == [
        (first["id"], False),
        (second["id"], True),
    ]
    async with engine.connect() as conn:
        active = await active_saml_signing_key(conn, "default", id)
    assert active is not None and active.id == second["id"] and active.private_key.startswith("-----BEGIN")


async def test_activating_a_key_switches_and_a_same_state_patch_is_a_no_op(
    client: AsyncClient, auth: dict[str, str]
) -> None:
    id = (await saml(client, auth))["id"]
    old = await new_key(client, auth, id, active=True)
    staged = await new_key(client, auth, id)
    response = await set_key(client, auth, id, staged["id"], True)
    assert response.status_code == 200 and response.json()["active"] is True
    assert {k["id"]: k["active"] for k in await key_list(client, auth, id)} == {old["id"]: False, staged["id"]: True}
    assert (await set_key(client, auth, id, staged["id"], True)).json() == {**staged, "active": True}
    assert (await set_key(client, auth, id, old["id"], False)).json()["active"] is False


async def test_the_key_in_use_cannot_be_deactivated_nor_the_active_one_deleted(
    client: AsyncClient, auth: dict[str, str]
) -> None:
    id = (await saml(client, auth))["id"]
    active = await new_key(client, auth, id, active=True)
    staged = await new_key(client, auth, id)
    await patch(client, auth, id, config={**MANUAL_SAML_CONFIG, "signAuthnRequest": True})
    error(
        await set_key(client, auth, id, active["id"], False),
        400,
        "single_sign_on.can_not_deactivate_signing_key_in_use",
    )
    assert (await set_key(client, auth, id, staged["id"], False)).status_code == 200  # an inactive one: no-op
    error(
        await client.delete(f"{PATH}/{id}/signing-keys/{active['id']}", headers=auth),
        400,
        "single_sign_on.can_not_delete_active_signing_key",
    )
    response = await client.delete(f"{PATH}/{id}/signing-keys/{staged['id']}", headers=auth)
    assert response.status_code == 204, response.text
    # with signing off, the active key can be turned off, and then deleted
    await patch(client, auth, id, config=MANUAL_SAML_CONFIG)
    assert (await set_key(client, auth, id, active["id"], False)).json()["active"] is False
    assert (await client.delete(f"{PATH}/{id}/signing-keys/{active['id']}", headers=auth)).status_code == 204
    assert await key_list(client, auth, id) == []


async def test_an_unknown_or_foreign_key_is_404_entity_not_found(client: AsyncClient, auth: dict[str, str]) -> None:
    id = (await saml(client, auth))["id"]
    other = (await saml(client, auth, "Other"))["id"]
    key = await new_key(client, auth, id)
    for key_id, connector_id in (("unknown", id), (key["id"], other)):
        error(await set_key(client, auth, connector_id, key_id, True), 404, "entity.not_found")
        error(
            await client.delete(f"{PATH}/{connector_id}/signing-keys/{key_id}", headers=auth), 404, "entity.not_found"
        )
    assert await key_list(client, auth, other) == []


async def test_only_saml_connectors_have_signing_keys(client: AsyncClient, auth: dict[str, str]) -> None:
    id = (await connector(client, auth))["id"]
    keys = f"{PATH}/{id}/signing-keys"
    error(await client.get(keys, headers=auth), 404, "connector.not_found")
    error(await client.post(keys, json={"active": True}, headers=auth), 404, "connector.not_found")
    error(await client.patch(f"{keys}/k", json={"active": True}, headers=auth), 404, "connector.not_found")
    error(await client.delete(f"{keys}/k", headers=auth), 404, "connector.not_found")
    error(await client.get(f"{PATH}/nope/signing-keys", headers=auth), 404, "entity.not_exists_with_id")
    azure = (await connector(client, auth, "AzureAD", "Entra", config=MANUAL_SAML_CONFIG))["id"]
    assert (await new_key(client, auth, azure))["active"] is False


async def test_a_key_post_may_have_no_body_and_a_key_patch_needs_active(
    client: AsyncClient, auth: dict[str, str]
) -> None:
    id = (await saml(client, auth))["id"]
    response = await client.post(f"{PATH}/{id}/signing-keys", headers=auth)
    assert response.status_code == 201 and response.json()["active"] is False
    key = response.json()
    response = await client.patch(f"{PATH}/{id}/signing-keys/{key['id']}", json={}, headers=auth)
    error(response, 400, "guard.invalid_input")


# --- events and cross-context reads


async def test_writes_publish_sso_connector_events_without_the_config(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine
) -> None:
    before = len(await sso_events(engine))
    created = await connector(client, auth, domains=["acme.example"])
    await patch(client, auth, created["id"], config=OIDC_CONFIG, syncProfile=True)
    await client.delete(f"{PATH}/{created['id']}", headers=auth)
    events = (await sso_events(engine))[before:]
    assert [e["type"] for e in events] == ["SsoConnector.Created", "SsoConnector.Updated", "SsoConnector.Deleted"]
    assert all(e["subject"] == created["id"] and e["source"] == "/gatehouse/management" for e in events)
    brief = {
        "id": created["id"],
        "providerName": "OIDC",
        "providerType": "oidc",
        "connectorName": "Acme",
        "domains": ["acme.example"],
        "syncProfile": False,
        "enableTokenStorage": False,
    }
    assert events[0]["data"] == {"data": brief}
    assert events[1]["data"] == {"data": {**brief, "syncProfile": True}, "changed": ["config", "syncProfile"]}
    assert events[2]["data"] == {"data": {**brief, "syncProfile": True}}
    assert SECRET not in msgspec.json.encode(events).decode()


async def test_identity_and_experience_read_connectors_through_the_schema_library(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine
) -> None:
    oidc = await connector(client, auth, domains=["acme.example"], branding={"displayName": "Acme"})
    saml_connector = await saml(client, auth)
    async with engine.connect() as conn:
        record = await sso_connector(conn, "default", oidc["id"])
        records = await sso_connectors(conn, "default")
        assert await sso_connector(conn, "default", "nope") is None
    assert record is not None
    assert (record.provider_name, record.provider_type, record.connector_name) == ("OIDC", "oidc", "Acme")
    assert (record.config, record.domains, record.branding) == (OIDC_CONFIG, ("acme.example",), {"displayName": "Acme"})
    assert (record.sync_profile, record.enable_token_storage) == (False, False)
    assert [(r.id, r.provider_type) for r in records] == [(oidc["id"], "oidc"), (saml_connector["id"], "saml")]


async def test_token_storage_is_for_oidc_providers_only(client: AsyncClient, auth: dict[str, str]) -> None:
    body = {"providerName": "SAML", "connectorName": "Stores SAML", "config": MANUAL_SAML_CONFIG}
    error(await create(client, auth, **body, enableTokenStorage=True), 422, "connector.token_storage_not_supported")
    created = await saml(client, auth, name="No storage SAML")
    refused = await patch(client, auth, created["id"], enableTokenStorage=True)
    error(refused, 422, "connector.token_storage_not_supported")
    oidc = await connector(client, auth, name="Stores OIDC", enableTokenStorage=True)
    assert oidc["enableTokenStorage"] is True
