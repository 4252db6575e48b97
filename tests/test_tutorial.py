"""The tutorial's promises: each python snippet runs on its own and prints what its comments say.

docs/tutorial.md tells its reader to paste every ```python block into a fresh
``python``. So each block runs here alone, in a fresh namespace and an empty
working folder, and what it prints is compared with the comments that say what
it prints. The convention, which the tutorial's snippets follow:

- a ``print(...)`` line may end in a comment: the first line it prints;
- comment lines that start at the left margin, straight after a statement
  that prints (a print line, or a loop or ``try`` with a print inside; no
  blank line between), are the lines it prints next;
- in an output comment, two spaces or more end the output and start a note
  for the reader: ``print(x.grad)   # 7.0   (= 2x + 1)`` expects ``7.0``;
- ``...`` in an output stands for any text, as in doctest: ``# 6.03...e+154``
  expects ``6.035193547016927e+154``, and an output ending in ``...`` a line
  that starts with what comes before.

Every line a snippet prints must be written in its comments, and in order.
"""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import tokenize
from pathlib import Path

import pytest

TUTORIAL = Path(__file__).resolve().parent.parent / "docs" / "tutorial.md"
SNIPPET = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
PRINT = re.compile(r"(?<![\w.])print\(")


def tutorial_snippets() -> list[tuple[int, str]]:
    """Each ```python block of the tutorial, with the line of the tutorial it starts on."""
    text = TUTORIAL.read_text()
    return [(text.count("\n", 0, found.start()) + 1, found.group(1)) for found in SNIPPET.finditer(text)]


def comments_by_line(code: str) -> dict[int, tuple[str, int]]:
    """Line number (from 1) -> (the comment's text after "# ", the column its "#" is in)."""
    found = {}
    for token in tokenize.generate_tokens(io.StringIO(code).readline):
        if token.type == tokenize.COMMENT:
            row, column = token.start
            found[row] = (token.string[1:].strip(), column)
    return found


def expected_output(code: str) -> list[str]:
    """The lines the snippet's comments say it prints, in order (see the module docstring)."""
    comments = comments_by_line(code)
    expected: list[str] = []
    printing = False  # whether the top-level statement being read prints
    for number, line in enumerate(code.splitlines(), start=1):
        comment, column = comments.get(number, (None, len(line)))
        code_part = line[:column]
        if comment is not None and not code_part.strip():  # a comment line
            if printing and column == 0:
                expected.append(comment)
            continue
        if not line.strip() or not line[0].isspace():  # a blank line, or the next statement begins
            printing = False
        if PRINT.search(code_part):
            printing = True
            if comment is not None:
                expected.append(comment)
    return expected


def shows(expected: str, printed: str) -> bool:
    """Whether a printed line is what the comment ``expected`` says (notes after two spaces dropped)."""
    output = re.split(r"\s{2,}", expected, maxsplit=1)[0]
    pattern = ".*".join(re.escape(part) for part in output.split("..."))
    return re.fullmatch(pattern, printed.rstrip()) is not None


# --- the convention itself, on small examples -----------------------------------


def test_a_trailing_comment_on_a_print_is_its_output_and_a_note_is_dropped():
    code = 'x = 3  # not output\nprint(x)   # 3   (a note)\n'
    assert expected_output(code) == ["3   (a note)"]
    assert shows("3   (a note)", "3")
    assert not shows("3   (a note)", "3   (a note)")


def test_comment_lines_right_after_a_printing_statement_are_its_next_lines_until_code_or_a_blank():
    code = "for i in range(2):\n    print(i)\n    i += 1\n# 0\n# 1\n\n# a remark, not output\ny = 1\n"
    assert expected_output(code) == ["0", "1"]


def test_an_indented_comment_or_one_after_a_statement_that_does_not_print_is_not_output():
    code = "print(1)   # 1\nx = 2\n# a remark\nfor i in range(1):\n    print(i)\n    # a remark\n# 0\n"
    assert expected_output(code) == ["1", "0"]


def test_dots_in_an_output_stand_for_any_text():
    assert shows("train: step 3 ...", "train: step 3 of 20: more")
    assert not shows("train: step 4 ...", "train: step 3 of 20")
    assert shows("sample 1: 6.03...e+154 **2: ...", "sample 1: 6.035193547016927e+154 **2: the result overflows")
    assert not shows("sample 1: 6.03...e+154", "sample 1: 6.035193547016927e+153")


def test_a_hash_inside_a_string_is_not_a_comment():
    assert expected_output('print("#c92a2a" in "x")   # False\n') == ["False"]


# --- the tutorial ------------------------------------------------------------------


SNIPPETS = tutorial_snippets()


def test_the_tutorial_has_snippets_to_check():
    assert len(SNIPPETS) >= 10


@pytest.mark.parametrize(("line", "code"), SNIPPETS, ids=[f"line {line}" for line, _ in SNIPPETS])
@pytest.mark.filterwarnings("ignore:train. the loss grew:RuntimeWarning")  # the divergence a snippet shows
def test_the_snippet_runs_alone_and_prints_what_its_comments_say(line: int, code: str, tmp_path, monkeypatch):
    if "render(" in code and shutil.which("dot") is None:
        pytest.skip("the snippet renders a graph, which needs Graphviz's dot program")
    monkeypatch.chdir(tmp_path)  # files a snippet writes land in an empty folder
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, f"{TUTORIAL.name}, snippet at line {line}", "exec"), {"__name__": "__tutorial__"})
    lines = printed.getvalue().splitlines()
    expected = expected_output(code)
    assert len(lines) == len(expected), (
        f"the snippet at line {line} printed {len(lines)} lines but its comments show {len(expected)}:\n"
        + "\n".join(lines)
    )
    for number, (comment, output) in enumerate(zip(expected, lines), start=1):
        assert shows(comment, output), f"snippet at line {line}, printed line {number}: {output!r}, comment {comment!r}"


def quoted_lines(chapter: str) -> list[str]:
    """The lines of the chapter's plain ``` blocks (no language named): what it quotes from the code."""
    text = TUTORIAL.read_text()
    start = text.index(f"### {chapter}")
    end = text.find("\n## ", start)
    quoted, fence = [], None  # fence: the language of the open block ("" for a plain one), None outside blocks
    for line in text[start:end].splitlines():
        if line.startswith("```"):
            fence = line[3:] if fence is None else None
        elif fence == "" and line.strip():
            quoted.append(line.strip())
    return quoted


def test_the_gpt_chapter_quotes_the_code_as_it_is():
    sources = "".join(path.read_text() for path in sorted((TUTORIAL.parent.parent / "nn").glob("*.py")))
    quoted = quoted_lines("10. Letters and attention")
    assert len(quoted) >= 10
    assert [line for line in quoted if line not in sources] == []
