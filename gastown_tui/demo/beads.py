'''The demo's five beads: what each asks for, and the simulated agent's instructions to do it.

The instructions use the simulated agent's language (gastown_tui/sim/script.py):
`sim:` lines run on the first attempt, `sim[retry]:` lines when the Refinery has sent
the work back with FIX_NEEDED.

- `word_count` and `char_count` both append to `textkit/stats.py`: whichever the
  Refinery merges second conflicts; on its retry the polecat rebases onto main,
  keeping both functions, and resubmits.
- `reverse_words` is wrong on the first try (it reverses characters), so the gate
  fails; on the retry the polecat fixes it.
- `slugify` and `title_case` are plain features.

`FIRST` are slung at the start (the conflicting pair and the failing one, so they
really run side by side); the Deacon feeds the rest as polecats free up.
'''
from __future__ import annotations

from dataclasses import dataclass

FENCE = "```"


@dataclass(frozen=True)
class DemoBead:
    key: str
    title: str
    description: str
    expect_path: str  # a file on main that must hold...
    expect_text: str  # ...this text once the bead has landed
    priority: int = 2


def _block(text: str) -> str:
    return f"{FENCE}python\n{text}{FENCE}\n"


WORD_COUNT = DemoBead(
    "word_count", "Add word_count to textkit.stats",
    "Add `word_count(text)`: the number of whitespace-separated words.\n\n"
    "sim: append textkit/stats.py\n"
    + _block('\n\ndef word_count(text: str) -> int:\n    """Number of whitespace-separated words."""\n'
             "    return len(text.split())\n")
    + "sim: write tests/test_word_count.py\n"
    + _block("import unittest\n\nfrom textkit.stats import word_count\n\n\n"
             "class WordCount(unittest.TestCase):\n    def test_words(self):\n"
             '        self.assertEqual(word_count("one two  three\\n"), 3)\n')
    + "sim: commit Add textkit.stats.word_count\n"
    "sim[retry]: rebase --resolve union\n"
    "sim[retry]: run python3 -m unittest discover -s tests -t .\n",
    "textkit/stats.py", "def word_count(",
)

CHAR_COUNT = DemoBead(
    "char_count", "Add char_count to textkit.stats",
    "Add `char_count(text, spaces=True)`: the number of characters, optionally without whitespace.\n\n"
    "sim: append textkit/stats.py\n"
    + _block('\n\ndef char_count(text: str, spaces: bool = True) -> int:\n'
             '    """Number of characters; with spaces=False, whitespace is not counted."""\n'
             "    return len(text) if spaces else sum(1 for c in text if not c.isspace())\n")
    + "sim: write tests/test_char_count.py\n"
    + _block("import unittest\n\nfrom textkit.stats import char_count\n\n\n"
             "class CharCount(unittest.TestCase):\n    def test_chars(self):\n"
             '        self.assertEqual(char_count("a b"), 3)\n'
             '        self.assertEqual(char_count("a b", spaces=False), 2)\n')
    + "sim: commit Add textkit.stats.char_count\n"
    "sim[retry]: rebase --resolve union\n"
    "sim[retry]: run python3 -m unittest discover -s tests -t .\n",
    "textkit/stats.py", "def char_count(",
)

REVERSE_WORDS = DemoBead(
    "reverse_words", "Add reverse_words to textkit.words",
    "Add `reverse_words(text)`: the words of the text in reverse order, joined by single spaces.\n\n"
    "sim: write textkit/words.py\n"
    + _block('"""Working with words."""\n\n\ndef reverse_words(text: str) -> str:\n'
             '    """The words in reverse order."""\n    return text[::-1]\n')
    + "sim: write tests/test_words.py\n"
    + _block("import unittest\n\nfrom textkit.words import reverse_words\n\n\n"
             "class ReverseWords(unittest.TestCase):\n    def test_reverses_word_order(self):\n"
             '        self.assertEqual(reverse_words("gas town rocks"), "rocks town gas")\n')
    + "sim: commit Add textkit.words.reverse_words\n"
    "sim[retry]: write textkit/words.py\n"
    + _block('"""Working with words."""\n\n\ndef reverse_words(text: str) -> str:\n'
             '    """The words in reverse order."""\n    return " ".join(reversed(text.split()))\n')
    + "sim[retry]: commit Fix reverse_words: reverse the words, not the characters\n",
    "textkit/words.py", 'return " ".join(reversed(text.split()))',
)

SLUGIFY = DemoBead(
    "slugify", "Add slugify to textkit.slug",
    "Add `slugify(text)`: lower case, runs of non-alphanumerics become one dash, no dashes at the ends.\n\n"
    "sim: write textkit/slug.py\n"
    + _block('"""URL slugs."""\n\nimport re\n\n\ndef slugify(text: str) -> str:\n'
             '    """"Gas Town!" -> "gas-town"."""\n'
             '    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")\n')
    + "sim: write tests/test_slug.py\n"
    + _block("import unittest\n\nfrom textkit.slug import slugify\n\n\n"
             "class Slugify(unittest.TestCase):\n    def test_slug(self):\n"
             '        self.assertEqual(slugify("  Gas Town: the Refinery! "), "gas-town-the-refinery")\n')
    + "sim: commit Add textkit.slug.slugify\n",
    "textkit/slug.py", "def slugify(",
)

TITLE_CASE = DemoBead(
    "title_case", "Add title_case to textkit.case",
    "Add `title_case(text)`: capitalise each word, keeping small words lower case except the first.\n\n"
    "sim: write textkit/case.py\n"
    + _block('"""Letter case."""\n\nSMALL = {"a", "an", "and", "the", "of", "in", "on", "to"}\n\n\n'
             "def title_case(text: str) -> str:\n"
             '    """"the lord of the rings" -> "The Lord of the Rings"."""\n'
             "    words = text.lower().split()\n"
             "    return \" \".join(w if i and w in SMALL else w.capitalize() for i, w in enumerate(words))\n")
    + "sim: write tests/test_case.py\n"
    + _block("import unittest\n\nfrom textkit.case import title_case\n\n\n"
             "class TitleCase(unittest.TestCase):\n    def test_title(self):\n"
             '        self.assertEqual(title_case("the lord of the rings"), "The Lord of the Rings")\n')
    + "sim: commit Add textkit.case.title_case\n",
    "textkit/case.py", "def title_case(",
)

ALL = [WORD_COUNT, CHAR_COUNT, REVERSE_WORDS, SLUGIFY, TITLE_CASE]
FIRST = ["word_count", "char_count", "reverse_words"]
CONFLICTING = {"word_count", "char_count"}  # exactly one of these is sent back once
FAILS_GATE_FIRST = "reverse_words"
