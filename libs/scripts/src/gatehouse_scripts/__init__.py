"""Runs administrators' JavaScript (Logto's Actions) in an embedded QuickJS engine, off the event loop."""

from gatehouse_scripts.runner import ScriptError, run_script

__all__ = ["ScriptError", "run_script"]
