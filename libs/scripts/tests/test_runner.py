"""Scripts run in QuickJS with Logto's entry function, JSON in and out, and bounded time and memory."""

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from aiohttp import web
from gatehouse_scripts import ScriptError, run_script


@pytest_asyncio.fixture
async def api() -> AsyncIterator[str]:
    async def profile(request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != "Bearer t0k":
            return web.json_response({"error": "no"}, status=401)
        return web.json_response({"name": "From Legacy"})

    app = web.Application()
    app.router.add_get("/profile", profile)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def test_run_action_gets_the_event_and_environment_variables() -> None:
    script = """
    const runAction = async ({ event, environmentVariables }) => ({
      action: 'updateUser',
      user: { name: event.user.name + environmentVariables.SUFFIX },
    });
    """
    result = await run_script(script, {"event": {"user": {"name": "Ada"}}, "environmentVariables": {"SUFFIX": "!"}})
    assert result == {"action": "updateUser", "user": {"name": "Ada!"}}


async def test_the_older_entry_name_and_an_undefined_result() -> None:
    assert await run_script("function runInlineHook() {}", {}) is None
    nothing = object()
    assert await run_script("function runInlineHook() {}", {}, undefined=nothing) is nothing
    assert await run_script("const runAction = () => null;", {}, undefined=nothing) is None


async def test_a_script_can_fetch_over_http(api: str) -> None:
    script = """
    const runAction = async ({ environmentVariables }) => {
      const response = await fetch(environmentVariables.URL, { headers: { authorization: 'Bearer t0k' } });
      if (!response.ok) throw new Error('status ' + response.status);
      return { name: (await response.json()).name, status: response.status };
    };
    """
    result = await run_script(script, {"environmentVariables": {"URL": f"{api}/profile"}})
    assert result == {"name": "From Legacy", "status": 200}


async def test_a_fetch_answer_that_is_not_ok_reaches_the_script(api: str) -> None:
    script = "const runAction = async ({ u }) => (await fetch(u)).status;"
    assert await run_script(script, {"u": f"{api}/profile"}) == 401


async def test_fetch_refuses_other_schemes() -> None:
    with pytest.raises(ScriptError, match="fetch failed"):
        await run_script("const runAction = async () => fetch('file:///etc/passwd');", {})


@pytest.mark.parametrize(
    ("script", "message"),
    [
        ("const runAction = () => { throw new Error('legacy says no'); };", "legacy says no"),
        ("const runAction = async () => Promise.reject(new Error('async no'));", "async no"),
        ("const runAction = () => ", "SyntaxError"),
        ("const somethingElse = 1;", "no runAction"),
        ("const runAction = () => () => 1;", "not JSON"),
        ("const runAction = () => 10n;", "not JSON"),
    ],
)
async def test_a_failing_script_is_a_script_error(script: str, message: str) -> None:
    with pytest.raises(ScriptError, match=message):
        await run_script(script, {})


async def test_an_endless_script_is_stopped() -> None:
    with pytest.raises(ScriptError):
        await run_script("const runAction = () => { for (;;) {} };", {}, timeout=1)


async def test_a_script_exhausting_memory_is_stopped() -> None:
    script = "const runAction = () => { const a = []; for (;;) a.push(new Array(100000).fill(1)); };"
    with pytest.raises(ScriptError):
        await run_script(script, {}, timeout=3)


async def test_no_state_survives_between_runs() -> None:
    await run_script("globalThis.leak = 42; const runAction = () => 1;", {})
    assert await run_script("const runAction = () => typeof globalThis.leak;", {}) == "undefined"
