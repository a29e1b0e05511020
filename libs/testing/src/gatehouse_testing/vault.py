"""One secret vault key per test run: every identity app a test run starts (the identity suite's, the
experience suite's) seals and opens with it, since an RPC may be answered by any of them."""

import base64
import os

VAULT_KEK = base64.b64encode(os.urandom(32)).decode()
