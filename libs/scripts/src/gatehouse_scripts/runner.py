"""Running an administrator's script: a fresh QuickJS context per run (no state shared between runs), with a
memory and a time limit, in a worker thread so the event loop never waits on it. The script sees no file
system, no process and no network beyond an injected `fetch` (plain HTTP(S) with a timeout).

The script defines an entry function (Logto's `runAction`; also the older `runInlineHook`) taking one payload
object; its result (or the value its promise resolves to) must be JSON. As in Logto's self-hosted runtime,
the scripts are trusted administrators' code: the limits keep a faulty script from stalling or exhausting the
service; they are not a boundary against a hostile administrator."""

import asyncio
import json
import time
import urllib.error
import urllib.request
from typing import Any

import quickjs

MEMORY_LIMIT = 64 * 1024 * 1024
FETCH_TIMEOUT = 5.0
FETCH_MAX_BYTES = 1024 * 1024

# `fetch` queues its request; the driver loop below performs it between jobs and settles the promise (QuickJS
# cannot call into Python while a time limit guards the script)
_PRELUDE = """
(() => {
  const waiters = {};
  let next = 0;
  globalThis.__gatehouse_pending = [];
  globalThis.__gatehouse_settle = (id, answer) => {
    const waiter = waiters[id];
    delete waiters[id];
    const parsed = JSON.parse(answer);
    if (parsed.error) waiter.reject(new TypeError('fetch failed: ' + parsed.error));
    else waiter.resolve(parsed);
  };
  globalThis.fetch = (url, init) =>
    new Promise((resolve, reject) => {
      const id = next++;
      waiters[id] = { resolve, reject };
      globalThis.__gatehouse_pending.push({ id, url: String(url), init: init || {} });
    }).then((answer) => ({
      ok: answer.status >= 200 && answer.status < 300,
      status: answer.status,
      headers: { get: (name) => answer.headers[String(name).toLowerCase()] ?? null },
      text: async () => answer.body,
      json: async () => JSON.parse(answer.body),
    }));
  globalThis.console = { log: () => {}, info: () => {}, warn: () => {}, error: () => {} };
})();
"""

_CALL = """
(() => {
  const entry = typeof runAction === 'function' ? runAction
    : typeof runInlineHook === 'function' ? runInlineHook : undefined;
  globalThis.__gatehouse_done = false;
  if (!entry) {
    globalThis.__gatehouse_error = 'The script defines no runAction function.';
    globalThis.__gatehouse_done = true;
    return;
  }
  Promise.resolve()
    .then(() => entry(JSON.parse(__gatehouse_payload)))
    .then(
      (result) => {
        globalThis.__gatehouse_undefined = result === undefined;
        try {
          const json = JSON.stringify(result === undefined ? null : result);
          if (typeof json === 'string') globalThis.__gatehouse_result = json;
          else globalThis.__gatehouse_error = 'The script returned a value that is not JSON.';
        } catch (error) {
          globalThis.__gatehouse_error = 'The script returned a value that is not JSON: ' + String(error);
        }
      },
      (error) => { globalThis.__gatehouse_error = String((error && error.message) || error); },
    )
    .finally(() => { globalThis.__gatehouse_done = true; });
})();
"""


class ScriptError(Exception):
    """The script did not run to a JSON result: a syntax error, a thrown error, a timeout, a memory limit."""


def _fetch(url: str, init_json: str) -> str:
    """A blocking HTTP request for the script (it runs in the worker thread)."""
    try:
        init = json.loads(init_json)
        if not url.startswith(("http://", "https://")):
            return json.dumps({"error": "only http and https URLs can be fetched"})
        body = init.get("body")
        request = urllib.request.Request(
            url,
            data=body.encode() if isinstance(body, str) else None,
            method=str(init.get("method", "GET")).upper(),
            headers={str(k): str(v) for k, v in (init.get("headers") or {}).items()},
        )
        try:
            with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT) as response:
                status, headers, raw = response.status, dict(response.headers), response.read(FETCH_MAX_BYTES)
        except urllib.error.HTTPError as error:
            status, headers, raw = error.code, dict(error.headers), error.read(FETCH_MAX_BYTES)
        return json.dumps(
            {
                "status": status,
                "headers": {k.lower(): v for k, v in headers.items()},
                "body": raw.decode("utf-8", "replace"),
            }
        )
    except (OSError, ValueError) as error:
        return json.dumps({"error": type(error).__name__})


def _run(script: str, payload: Any, timeout: float, undefined: Any) -> Any:
    context = quickjs.Context()
    context.set_memory_limit(MEMORY_LIMIT)
    context.set_time_limit(max(1, round(timeout)))
    context.set("__gatehouse_payload", json.dumps(payload))
    try:
        context.eval(_PRELUDE)
        context.eval(script)
        context.eval(_CALL)
        deadline = time.monotonic() + timeout
        while not context.get("__gatehouse_done"):
            if time.monotonic() > deadline:
                raise ScriptError("The script did not finish in time.")
            if context.execute_pending_job():
                continue
            requests = json.loads(str(context.eval("JSON.stringify(__gatehouse_pending.splice(0))")))
            if not requests:
                time.sleep(0.001)  # waiting on nothing it can get: the deadline ends it
            for request in requests:
                context.set("__gatehouse_answer", _fetch(request["url"], json.dumps(request["init"])))
                context.eval(f"__gatehouse_settle({int(request['id'])}, __gatehouse_answer)")
    except quickjs.JSException as error:
        raise ScriptError(str(error).splitlines()[0] or "The script failed.") from None
    failure = context.get("__gatehouse_error")
    if failure is not None:
        raise ScriptError(str(failure))
    if context.get("__gatehouse_undefined"):
        return undefined
    result = context.get("__gatehouse_result")
    if not isinstance(result, str):
        raise ScriptError("The script returned a value that is not JSON.")
    return json.loads(result)


async def run_script(script: str, payload: Any, *, timeout: float = 5.0, undefined: Any = None) -> Any:
    """The JSON result of the script's entry function called with `payload`; `undefined` (None unless given)
    when it returns nothing, so a caller can tell `undefined` from `null`."""
    return await asyncio.to_thread(_run, script, payload, timeout, undefined)
