from httpx import AsyncClient


async def test_discovery_advertises_the_configured_issuer(client: AsyncClient) -> None:
    doc = (await client.get("/oidc/.well-known/openid-configuration")).json()
    assert doc["issuer"] == "http://127.0.0.1:3001/oidc"
    assert doc["jwks_uri"] == "http://127.0.0.1:3001/oidc/jwks"
    assert doc["token_endpoint"] == "http://127.0.0.1:3001/oidc/token"
    assert doc["id_token_signing_alg_values_supported"] == ["ES384"]
    assert "client_credentials" in doc["grant_types_supported"]


async def test_jwks_publishes_one_public_p384_key(client: AsyncClient) -> None:
    response = await client.get("/oidc/jwks")
    assert response.status_code == 200
    keys = response.json()["keys"]
    assert len(keys) == 1
    key = keys[0]
    assert key["kty"] == "EC" and key["crv"] == "P-384" and key["alg"] == "ES384" and key["kid"]
    assert "d" not in key
