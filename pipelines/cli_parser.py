"""`kfx`'s argument parser: every mistake is one line naming the nearest valid word and --help."""

from __future__ import annotations

import argparse
import difflib
import re
import sys

EXIT_USAGE = 2  # bad arguments (pipelines/cli.py)


class Parser(argparse.ArgumentParser):
    """argparse whose errors are one line: what is wrong, the nearest valid word, --help."""

    def parse_known_args(self, args=None, namespace=None):
        """Remembers the arguments, to name the subcommand in errors."""
        self._argv = list(sys.argv[1:] if args is None else args)
        return super().parse_known_args(args, namespace)

    def error(self, message: str):
        """Prints `PROG: error: MESSAGE[; did you mean X?] (see PROG --help)` and exits 2."""
        parser = _subcommand(self, getattr(self, "_argv", []))
        hint = _nearest(parser, message)
        prog = parser.prog
        self.exit(EXIT_USAGE, f"{prog}: error: {message}{hint} (see `{prog} --help`)\n")


def _subcommand(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.ArgumentParser:
    """The parser of the subcommand named in `argv` (`parser` itself if none is)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            chosen = next((a for a in argv if a in action.choices), None)
            return action.choices[chosen] if chosen else parser
    return parser


def _flags(parser: argparse.ArgumentParser) -> list[str]:
    """Every option string of `parser` and of its subcommands."""
    found = []
    for action in parser._actions:
        found += [o for o in action.option_strings if o.startswith("--")]
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                found += _flags(child)
    return sorted(set(found))


def _nearest(parser: argparse.ArgumentParser, message: str) -> str:
    """'; did you mean X?' for a mistyped choice or flag named in `message` ('' if none)."""
    choice = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
    if choice:
        words, options = [choice[1]], re.findall(r"'([^']*)'", choice[2])
    else:
        extra = re.match(r"unrecognized arguments: (.*)", message)
        words = [w.split("=")[0] for w in extra[1].split() if w.startswith("-")] if extra else []
        options = _flags(parser)
    for word in words:
        near = difflib.get_close_matches(word, options, n=1)
        if near:
            return f"; did you mean {near[0]}?"
    return ""
