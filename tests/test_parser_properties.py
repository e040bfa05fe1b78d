"""Properties: whatever is done to the sample, the parser parses it or raises BulletinError;
its tables and prose in any order give every figure."""

from __future__ import annotations

import tempfile
from pathlib import Path

from derive import french, table_blocks
from golden import expected_figures, figures_of
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flows.errors import BulletinError
from flows.ingest import bulletin_text
from flows.ingest.parse import parse_file
from flows.ingest.raw_file import clean_lines
from flows.ingest.stage import stage, with_edition

SAMPLE_TEXT = (
    next((Path(__file__).resolve().parent.parent / "data" / "raw").glob("*.txt"))
).read_text(encoding="utf-8")
SAMPLE_LINES = SAMPLE_TEXT.split("\n")


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """The sample with lines dropped, swapped or duplicated, numbers and bytes corrupted."""
    lines = list(SAMPLE_LINES)
    for _ in range(draw(st.integers(1, 6))):
        i = draw(st.integers(0, len(lines) - 1))
        j = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["drop", "swap", "duplicate", "number", "text"]))
        if action == "drop":
            del lines[i]
        elif action == "swap":
            lines[i], lines[j] = lines[j], lines[i]
        elif action == "duplicate":
            lines.insert(j, lines[i])
        elif action == "number":
            lines[i] = lines[i] + " " + draw(st.from_regex(r"[0-9.,*%]{1,8}", fullmatch=True))
        else:
            lines[i] = draw(st.text(max_size=40))
    data = bytearray("\n".join(lines).encode("utf-8"))
    for _ in range(draw(st.integers(0, 3))):
        if data:
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return bytes(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_parses_or_raises_bulletin_error(content: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "mutated.txt"
        path.write_bytes(content)
        try:
            parsed = parse_file(path, "0" * 64)
        except BulletinError as error:
            assert error.reason and error.file == "mutated.txt"
            return
        staged = stage(with_edition(parsed.edition, parsed.observations))
        assert len(staged) == len(parsed.observations) > 0


@settings(max_examples=100, deadline=None)
@given(
    order=st.permutations(range(11)),
    dense=st.booleans(),
    language=st.sampled_from(["nl", "fr", "fr\u00a0", "fr\u202f", "fr."]),
)
def test_tables_and_prose_in_any_order_give_every_figure(
    order: list[int], dense: bool, language: str
) -> None:
    prose, blocks = table_blocks(SAMPLE_TEXT)
    pieces = [*prose, *blocks.values()]
    assert len(pieces) == len(order)
    text = "\n".join(pieces[i] for i in order)
    if dense:
        text = "\n".join(line for line in text.split("\n") if line.strip())
    if language.startswith("fr"):
        text = french(text, language[2:] or " ")
    parsed = bulletin_text.parse(clean_lines(text), "shuffled.txt")
    parsed.edition["sha256"] = "0" * 64
    assert figures_of(stage(with_edition(parsed.edition, parsed.observations))) == (
        expected_figures()
    )
