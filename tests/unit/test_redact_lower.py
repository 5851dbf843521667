"""Redaction lowers the texts of a finding one at a time: the same block, position for position, as lowering
them joined (Greek final sigma at a text's end, letters that grow when lowered, a curly quote beside ASCII)."""

from __future__ import annotations

import random

import pytest

from shared.redact import _lower, _lower_joined, redact_many


def _lowered_as_joined(texts: list[str]) -> None:
    joined = "\n".join(texts)
    assert _lower_joined(texts, joined) == _lower(joined), texts


def test_lowering_text_by_text_is_lowering_them_joined_on_near_misses():
    """Final sigma at a text's end and before the next text, letters that grow when lowered, a combining mark
    after a sigma, a curly quote beside ASCII; 20,000 generated lists in the slow test below."""
    for texts in (["Σ"], ["aΣ"], ["ΑΣ", "Σ"], ["aΣ", "b"], ["Σ", "aΣ"], ["aΣ\u0345", "x"], ["aΣ\u0301"], ["ς", "σ"],
                  ["İ"], ["aİ", "Σ"], ["İΣ", "aΣ"], ["ẞ", "ß"], ["ǅ", "K"], ["Ω", "ı"], ["“quoted” …", "aΣ"],
                  ["", "Σ"], ["Σ", ""], ["a\nΣ", "b"], ["İ\nΣ", "'aΣ."]):
        _lowered_as_joined(list(texts))


@pytest.mark.slow  # a generated-input equivalence check of a speed-up: `make test` (see the Makefile's `unit`)
def test_lowering_text_by_text_is_lowering_them_joined():
    rnd = random.Random(5)
    alphabet = ["a", "Σ", "σ", "ς", "\n", " ", "İ", "K", "ẞ", "ß", "'", ".", "ǅ", "Ω", "ı", "\u0345", "\u0301", "“", "…"]
    for _ in range(20_000):
        _lowered_as_joined(["".join(rnd.choice(alphabet) for _ in range(rnd.randrange(0, 8)))
                            for _ in range(rnd.randrange(1, 5))])


def test_a_secret_beside_a_non_ascii_text_is_masked():
    texts = ["ΟΔΟΣ “quoted” …", "password=hunter2secret", "ΣΟΦΟΣ", "İstanbul token=abcdef0123456789"]
    out = redact_many(texts)
    assert "hunter2secret" not in out[1] and "abcdef0123456789" not in out[3]
    assert out[0] == texts[0] and out[2] == texts[2]


def test_surrogates_are_found_as_the_regex_finds_them():
    from shared.redact import _SURROGATE, _has_surrogate

    for text in ["plain", "“quoted” …", "a\udcffb", "\ud800", "x\udfff", "é\ud83d\ude00", "😀", ""]:
        assert _has_surrogate(text) == (_SURROGATE.search(text) is not None), repr(text)
    assert redact_many(["bad \udcff byte", "fine"]) == ["bad \ufffd byte", "fine"]


def test_a_batch_mixing_ascii_and_other_texts_is_masked_as_each_text_alone():
    """The texts that are not ASCII are masked apart from the others (so that one curly quote does not make the whole
    batch 2-byte characters): each text comes out as it does masked alone, secrets on either side, and in order."""
    from shared.redact import redact, redact_lines_and

    pool = ["password=hunter2secret", "token: “abcdef0123456789”", "İstanbul api_key=XYZ0123456789", "ΣΟΦΟΣ secret=s3cr3t!",
            "INFO GET /health 200", "“quoted” … plain", "bad \udcff byte password=x1y2z3w4", "", "postgres://u:p4ss@db/x",
            "Authorization: Bearer eyJabc.eyJdefghij.klmnopqrs", "-----BEGIN RSA PRIVATE KEY-----", "é"]
    rnd = random.Random(11)
    for _ in range(2_000):
        texts = [rnd.choice(pool) for _ in range(rnd.randrange(0, 9))]
        assert redact_many(texts) == [redact(t) for t in texts], texts
        lines = [t for t in texts if "PRIVATE KEY" not in t]
        assert redact_lines_and(lines, texts) == ([redact(t) for t in lines], [redact(t) for t in texts]), texts


def test_a_value_its_writer_already_masked_is_left_as_written():
    from shared.redact import redact

    # The Datadog agent shows its API key masked but for the last 5 characters: nothing left to hide.
    line = "Too many errors for endpoint 'https://app.agent.datadoghq.com/api/v1/series?api_key=*********************aaaaa'"
    assert redact(line) == line
    assert redact("password=*****") == "password=*****"
    # Near misses: more than 5 characters showing, or stars that do not lead, are a value to mask.
    assert "abcdef123456" not in redact("api_key=***abcdef123456")
    assert "abcdef0123" not in redact("api_key=abcdef0123****")
