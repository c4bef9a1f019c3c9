"""Every shell command of the READMEs' `bash`/`sh` blocks can run as written in a fresh shell from
the repository root, after the two set-up commands: the project's programs are called by their
path in `.venv/bin` (a fresh shell has no virtual environment on its PATH), and no relative path
is used after a `cd` has left the repository root. Checked by reading the commands' program
words, not by running them (commands in running text are not read)."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
READMES = [ROOT / "README.md", ROOT / "tests" / "contract" / "README.md"]
VENV_BIN = Path(sys.executable).parent
# The set-up commands call `python3` bare: a fresh shell has it (the system's).
SETUP_BARE = {"python3"}
# Prerequisites the README names for some commands, not on every machine that runs this test.
PRESUPPOSED = {"npm", "apt-get", "curl"}
PUNCTUATION = "();<>|&\n"
REDIRECTIONS = {">", ">>", "<", ">&", "&>", "<<<"}
ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
FENCED = re.compile(r"^```(?:bash|sh)\n(.*?)^```", flags=re.M | re.S)


def shell_words() -> set[str]:
    """Bash's keywords and builtins: never looked up on PATH."""
    listed = subprocess.run(["bash", "-c", "compgen -k; compgen -b"], capture_output=True, text=True, check=True)
    return set(listed.stdout.split())


BUILTINS = shell_words()


def fresh_path() -> str:
    """PATH without the virtual environment's bin, as a shell that did not activate it has."""
    venv = {VENV_BIN.resolve(), (ROOT / ".venv" / "bin").resolve(), (Path(sys.prefix) / "bin").resolve()}
    entries = [e for e in os.environ.get("PATH", "").split(os.pathsep) if e and Path(e).resolve() not in venv]
    return os.pathsep.join(entries)


def substitutions(token: str) -> list[str]:
    """The commands inside `$( ... )` of a word (quoted words keep them whole)."""
    found, start = [], token.find("$(")
    while start != -1:
        depth, end = 0, start + 1
        for end in range(start + 1, len(token)):
            depth += {"(": 1, ")": -1}.get(token[end], 0)
            if depth == 0:
                break
        found.append(token[start + 2 : end])
        start = token.find("$(", end)
    return found


@dataclass
class Shell:
    """What a reader's shell knows while running one code block from the repository root."""

    functions: set[str]
    cwd: Path | None = ROOT  # None once a `cd` went somewhere only known when it runs
    variables: dict[str, str] = field(default_factory=dict)
    npm_prefixes: list[str] = field(default_factory=list)

    def problem(self, word: str) -> str | None:
        """Why `word`, a command word, would not run as written; None when it would."""
        if word.startswith("$"):
            name = word.strip("${}")
            if name not in self.variables:
                return f"`{word}`: a program named by a variable the block does not set"
            word = self.variables[name]
        if "/" not in word:
            if word in BUILTINS or word in self.functions:
                return None
            if (VENV_BIN / word).exists() and word not in SETUP_BARE:
                return f"`{word}` is in .venv/bin, not on PATH in a fresh shell: write .venv/bin/{word}"
            if word in PRESUPPOSED or shutil.which(word, path=fresh_path()):
                return None
            return f"`{word}` is no command of a fresh shell"
        if word.startswith("/"):
            return None if Path(word).exists() else f"`{word}` does not exist"
        if self.cwd is None:
            return f"`{word}`: a relative path after a `cd` left the repository root"
        if word.startswith(".venv/bin/"):
            return None if (VENV_BIN / word.removeprefix(".venv/bin/")).exists() else f"`{word}`: the set-up installs no such program"
        if any(word.startswith(f"{prefix.rstrip('/')}/node_modules/.bin/") for prefix in self.npm_prefixes):
            return None  # installed by an `npm install --prefix` earlier in the block
        return None if (self.cwd / word).exists() else f"`{word}` does not exist"

    def ran(self, words: list[str]) -> None:
        """Note what the command does to the shell: where it is, what it installed."""
        if words[0] == "cd":
            self.cwd = None
        elif words[:2] == ["npm", "install"] and "--prefix" in words:
            self.npm_prefixes.append(words[words.index("--prefix") + 1])

    def assign(self, token: str) -> None:
        name, value = token.split("=", 1)
        if self.cwd is not None:
            value = value.replace("${PWD}", str(self.cwd)).replace("$PWD", str(self.cwd))
        self.variables[name] = value


def without_comments(text: str) -> str:
    """The text without its shell comments: a `#` that starts a word, outside quotes, to the line's end."""
    out, quote, index = [], "", 0
    while index < len(text):
        char = text[index]
        if char == "\\" and quote != "'":  # an escaped character is never a quote or a comment
            out.append(text[index : index + 2])
            index += 2
            continue
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or text[index - 1] in " \t\n;&|("):
            end = text.find("\n", index)
            index = len(text) if end == -1 else end
            continue
        out.append(char)
        index += 1
    return "".join(out)


def tokens_of(text: str) -> list[str]:
    """Shell words and operators; a line's end is an operator (it ends a command) like `;`."""
    lexer = shlex.shlex(without_comments(text).replace("\\\n", " "), posix=True, punctuation_chars=PUNCTUATION)
    lexer.whitespace = " \t\r"
    lexer.whitespace_split = True
    return list(lexer)


def problems_in(block: str) -> list[str]:
    """What would not run as written, command by command."""
    shell = Shell(functions=set(re.findall(r"^\s*([A-Za-z_][\w-]*)\s*\(\)", block, flags=re.M)))
    found: list[str] = []
    check_commands(tokens_of(block), shell, found)
    return found


def command_at(tokens: list[str], index: int) -> str:
    """The words from `index` to the command's end, to show where a problem is."""
    end = next((i for i in range(index, len(tokens)) if is_operator(tokens[i])), len(tokens))
    return " ".join(tokens[index:end])


def is_operator(token: str) -> bool:
    return all(char in PUNCTUATION for char in token)


def check_commands(tokens: list[str], shell: Shell, found: list[str]) -> None:
    words: list[str] = []
    expect_command, skip_next, in_array = True, False, False

    def end_command() -> None:
        nonlocal words
        if words:
            shell.ran(words)
        words = []

    for index, token in enumerate(tokens):
        for inner in substitutions(token) if "$(" in token else []:
            check_commands(tokens_of(inner), shell, found)
        following = tokens[index + 1] if index + 1 < len(tokens) else ""
        if skip_next:
            skip_next = False
        elif in_array:
            in_array = ")" not in token
        elif token == "()":  # NAME () { ...: a function's definition
            words, expect_command = [], False
        elif token.strip() in REDIRECTIONS:
            skip_next = True
        elif is_operator(token):
            end_command()
            expect_command = True
        elif expect_command and ASSIGNMENT.match(token):
            if token.endswith("=") and following.startswith("("):
                in_array = ")" not in following  # NAME=( ... ): an array, not a subshell
                skip_next = True
            else:
                shell.assign(token)
        elif expect_command and following == "()":
            pass  # the name of a function being defined
        else:
            if expect_command:
                expect_command = token in {"{", "!", "then", "do", "else", "time"}
                problem = shell.problem(token)
                if problem:
                    found.append(f"{problem}\n    in: {command_at(tokens, index)}")
            words.append(token)
    end_command()


def blocks() -> list[tuple[str, int, str]]:
    found = []
    for readme in READMES:
        text = readme.read_text(encoding="utf-8")
        for match in FENCED.finditer(text):
            found.append((readme.relative_to(ROOT).as_posix(), text.count("\n", 0, match.start()) + 1, match.group(1)))
    return found


@pytest.mark.parametrize(("readme", "line", "block"), blocks(), ids=lambda v: str(v) if isinstance(v, int) else None)
def test_readme_commands_run_in_a_fresh_shell(readme: str, line: int, block: str) -> None:
    assert not problems_in(block), f"{readme}, the block at line {line}:\n" + "\n".join(problems_in(block))


@pytest.mark.parametrize(("block", "expected"), [
    ("st run http://127.0.0.1:8080/openapi.json", ["`st` is in .venv/bin"]),
    ("cd \"$(mktemp -d)\" && st run x", ["`st` is in .venv/bin"]),
    ("cd \"$(mktemp -d)\" && .venv/bin/st run x", ["a relative path after a `cd`"]),
    ("openapi-python-client generate --path x", ["`openapi-python-client` is in .venv/bin"]),
    ("X=1 pytest -n 2 | tee log", ["`pytest` is in .venv/bin"]),
    ("mock-4hse-typo --port 1", ["no command of a fresh shell"]),
    ("\"$TOOL\" run", ["a program named by a variable"]),
    (".venv/bin/no-such-program", ["the set-up installs no such program"]),
    ("(st=\"$PWD/.venv/bin/st\" && cd \"$(mktemp -d)\" && \"$st\" run x)", []),
    ("f() { .venv/bin/python -c 'print(1)' \"$1\"; }\nA=(-H x)\nf | f > /dev/null", []),
    ("npm install --prefix .ci/tools p\n.ci/tools/node_modules/.bin/prism proxy a b", []),
    ("FUZZ_SECONDS=60 bash ci/pipeline.sh fuzz   # a comment with st run", []),
], ids=range(12))
def test_the_check_tells_bare_and_misplaced_commands(block: str, expected: list[str]) -> None:
    found = problems_in(block)
    assert len(found) == len(expected), found
    for problem, words in zip(found, expected):
        assert words in problem


def test_the_set_up_commands_call_bare_only_what_a_fresh_shell_has() -> None:
    """SETUP_BARE is what the README's two set-up commands call without a path."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    setup = re.findall(r"<!-- setup:\w+ -->\s*```bash\n(.*?)```", text, flags=re.S)
    assert len(setup) == 2
    bare = {token for block in setup for index, token in enumerate(tokens_of(block))
            if "/" not in token and (index == 0 or is_operator(tokens_of(block)[index - 1]))}
    assert bare == SETUP_BARE
