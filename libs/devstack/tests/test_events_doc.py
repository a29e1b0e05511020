"""The event catalogue: generated from the event Structs, and the committed docs/events.md is current."""

import json
import re
from pathlib import Path

import msgspec
import pytest
from gatehouse_devstack.cli import main
from gatehouse_devstack.events_doc import example_envelope, render
from gatehouse_schema.events import CATALOGUE, CloudEvent, event_subject

REPO_ROOT = Path(__file__).resolve().parents[3]
COMMITTED = REPO_ROOT / "docs" / "events.md"


@pytest.fixture(scope="module")
def doc() -> str:
    return render()


def _section(doc: str, heading: str) -> str:
    start = doc.index(f"\n{heading}\n")
    end = doc.find("\n### ", start + 1)
    return doc[start : end if end != -1 else len(doc)]


@pytest.mark.parametrize("event", CATALOGUE, ids=lambda c: c.event_type)
def test_every_catalogued_struct_has_its_section(doc: str, event: type) -> None:
    section = _section(doc, f"### `{event.event_type}`")
    assert f"`{event.__module__}.{event.__qualname__}`" in section
    assert f"`{event.context}`" in section
    assert event_subject("<prefix>", "<tenant>", event.context, event.event_type) in section
    assert event_subject("gatehouse", "*", event.context, event.event_type) in doc
    assert event.description and event.description in section
    for field in msgspec.structs.fields(event):
        assert f"| `{field.encode_name}` |" in section


def test_nested_structs_get_their_own_tables(doc: str) -> None:
    section = _section(doc, "### Application")
    for field in ("tenantId", "oidcClientMetadata", "customClientMetadata", "isThirdParty", "createdAt"):
        assert f"| `{field}` |" in section
    assert "](#oidcclientmetadata)" in section
    assert "\n### OidcClientMetadata\n" in doc
    assert "\n### CustomClientMetadata\n" in doc


def test_envelope_fields_and_example(doc: str) -> None:
    for field in msgspec.structs.fields(CloudEvent):
        assert f"| `{field.encode_name}` |" in doc
    example = re.search(r"```json\n(.*?)\n```", doc, re.S)
    assert example is not None
    shown = json.loads(example.group(1))
    assert shown == json.loads(msgspec.json.encode(example_envelope()))
    envelope = msgspec.json.decode(example.group(1).encode(), type=CloudEvent)
    assert envelope.decode_data(dict)["data"]["id"] == envelope.subject


def test_anchors_resolve(doc: str) -> None:
    headings = {
        "".join(c for c in line.lstrip("#").strip().lower() if c.isalnum() or c in " -_").replace(" ", "-")
        for line in doc.splitlines()
        if line.startswith("#")
    }
    for anchor in re.findall(r"\]\(#([^)]+)\)", doc):
        assert anchor in headings, anchor


def test_render_is_deterministic() -> None:
    assert render() == render()


def test_committed_doc_is_up_to_date(doc: str) -> None:
    assert COMMITTED.exists(), "docs/events.md is missing: run `make events-doc`"
    assert COMMITTED.read_text() == doc, "docs/events.md is out of date: run `make events-doc`"


def test_cli_writes_and_checks(tmp_path: Path, doc: str) -> None:
    out = tmp_path / "docs" / "events.md"
    assert main(["events-doc", "--check", "--out", str(out)]) == 1
    assert main(["events-doc", "--out", str(out)]) == 0
    assert out.read_text() == doc
    assert main(["events-doc", "--check", "--out", str(out)]) == 0
