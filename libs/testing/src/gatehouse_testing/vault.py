"""One secret vault key per test run: every identity app a test run starts (the identity suite's, the
experience suite's) seals and opens with it, since an RPC may be answered by any of them. And what the Users API
shows of an enterprise SSO identity's kept token set (Logto's desensitized `EnterpriseSsoTokenSetSecret`)."""

import base64
import os

VAULT_KEK = base64.b64encode(os.urandom(32)).decode()
SSO_TOKEN_SECRET_KEYS = frozenset(
    {
        "tenantId",
        "id",
        "userId",
        "type",
        "metadata",
        "createdAt",
        "updatedAt",
        "ssoConnectorId",
        "issuer",
        "identityId",
    }
)
