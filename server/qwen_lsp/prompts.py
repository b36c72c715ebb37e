"""Prompt templates, where they may come from, and the completion prompts built from them.

This module is the one loader of templates: completion, action and review prompts all come
through `load_template`. A template is looked up in the folders its caller names (the
project's `.qwen-lsp/prompts/`, the user's own prompt folder, `review.promptDir`), in that
order, then among the templates shipped inside the package. The shipped ones are trusted; a
template from any other folder is read only when it passes the same rules (see
`_read_from_folder`), because a project's folder travels with someone else's repository and
a template's whole text is sent to the model:

- a plain relative name (`actions/fix`): no `..`, no absolute path, no drive, no backslash;
- a regular file, and no symbolic link on the way: neither the file nor any folder between
  the folder it was configured in and the file (checked without following links, so a
  link to `/proc/self/environ` or to a secret elsewhere is never opened);
- at most `MAX_TEMPLATE_BYTES`, UTF-8 text.

A template that breaks a rule is refused with `TemplateRefused` (a `ConfigError`: one message
naming the file and the reason) and is never silently replaced by the shipped one: whoever
put it there must learn that it was not used. A template simply absent from a folder falls
through to the next folder and finally to the shipped one.

Templates are plain substitution: `{{name}}` placeholders are replaced in one pass by the
values the server computed (`Template.render`), so there is no include, no attribute or index
access and no format spec, and a value containing braces is never expanded again. A
template's version is the hash of its text, so editing a template invalidates exactly the
cached answers it shaped. The stable part of a prompt (related code) comes first and the
cursor window last, so providers' prompt caches apply.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from qwen_lsp import errors
from qwen_lsp.context.extract import CursorContext
from qwen_lsp.model import GenerationRequest, Message, PromptMode
from qwen_lsp.special_tokens import (
    END_OF_TEXT,
    FILE_SEP,
    FIM_MIDDLE,
    FIM_PREFIX,
    FIM_SUFFIX,
    HOLE,
    IM_END,
    QWEN_STOP_TOKENS,
    REPO_NAME,
)

FIM_FORMAT_VERSION = "qwen-fim-1"

# The shipped templates are one or two kilobytes of instructions; a real override is the same
# size. 64 KiB leaves room for any honest template and still bounds what a template can add
# to every request (and to its bill), and what reading one may cost.
MAX_TEMPLATE_BYTES = 64 * 1024
PROJECT_PROMPTS = (".qwen-lsp", "prompts")  # inside a workspace folder

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_NAME_PART = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
# Where folders can be opened relative to an open folder without following links (Linux,
# macOS, BSD), the walk to a template holds each folder open, so nothing can be swapped for a
# link between the check and the read; elsewhere each step is checked with lstat.
_WALK_BY_FD = hasattr(os, "O_NOFOLLOW") and os.open in os.supports_dir_fd


def packaged_prompts_dir() -> Path:
    """`qwen_lsp/prompt_templates` in an installed wheel, the repository's `prompts/` in a
    checkout."""
    inside = Path(__file__).parent / "prompt_templates"
    return inside if inside.is_dir() else Path(__file__).resolve().parents[2] / "prompts"


@dataclass(frozen=True)
class Template:
    name: str
    text: str

    @property
    def version(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()[:12]

    def render(self, values: dict[str, str]) -> str:
        """The text with each `{{name}}` replaced by `values[name]`, in one pass.

        Only a bare identifier is a placeholder: `{{x.__class__}}`, `{{0[0]}}`, `{{x!r}}` or
        `{{x:>9}}` are not, and stay as written; a name with no value stays as written too.
        Nothing is looked up but keys of `values`, and a value's own braces are never expanded
        (`re.sub` does not rescan what it inserted), so neither a template nor the code in a
        value can reach an attribute, a file or another value.
        """
        return _PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), m.group(0))), self.text)


class TemplateRefused(errors.ConfigError):
    """A template file breaks a rule (see the module docstring); the message names it and why."""


@dataclass(frozen=True)
class TemplateFolder:
    """A folder that may hold templates, and who put it there.

    `root` is the folder the rules start from: it may itself be a link (the user chose it, or
    it is the workspace folder the editor opened), but nothing below it may be. `below` are
    the folders between `root` and the templates (`.qwen-lsp/prompts` in a workspace).
    `holds` is the part of template names the folder stands for: `review.promptDir` holds
    `review/system` as `system.md`.
    """

    root: Path
    origin: str  # for messages: "the project", "your user prompt folder", "review.promptDir"
    below: tuple[str, ...] = ()
    holds: str = ""
    required: bool = False  # a folder named in a setting must exist
    # What is stripped from the end of a file's text. `review.promptDir` templates always lost
    # every trailing blank; kept, so their versions (part of the answers' cache keys) stay.
    strip: str | None = "\n"

    @property
    def path(self) -> Path:
        return self.root.joinpath(*self.below)


@dataclass(frozen=True)
class PromptSources:
    """Where an editor session's own templates may come from, before the shipped ones."""

    workspace: Path | None = None  # its `.qwen-lsp/prompts/`, confined to this folder
    user_dir: Path | None = None  # `<config dir>/qwen-lsp/prompts/`, the user's own

    def folders(self) -> tuple[TemplateFolder, ...]:
        """The folders to look in, the project's first."""
        found = []
        if self.workspace is not None:
            found.append(TemplateFolder(self.workspace, "the project", below=PROJECT_PROMPTS))
        if self.user_dir is not None:
            found.append(TemplateFolder(self.user_dir, "your user prompt folder"))
        return tuple(found)


def configured_folder(setting: str, value: str, *, holds: str = "") -> TemplateFolder:
    """The template folder a user setting names (`review.promptDir`).

    Only an absolute path or one starting with `~` is taken: a relative one would be read
    from whatever folder qwen-lsp happens to run in (for `--check`, a repository someone else
    wrote), so it is refused rather than guessed.
    """
    try:
        path = Path(value).expanduser()
    except RuntimeError:  # `~` with no home folder to expand it to
        path = Path(value)
    if not path.is_absolute():
        raise TemplateRefused(
            f"qwen-lsp: {setting} must be an absolute folder or start with ~, not {value!r}; "
            "its templates were not used"
        )
    return TemplateFolder(path, setting, holds=holds, required=True, strip=None)


class PromptLibrary:
    """The shipped templates by name (`completion/chat.system`), for the completion prompts."""

    def get(self, name: str) -> Template:
        return load_template(name)


def load_template(name: str, folders: Sequence[TemplateFolder] = ()) -> Template:
    """The template `name` ("actions/fix") from the first of `folders` that holds it, else the
    shipped one. Raises TemplateRefused when a folder holds it but breaks a rule: the shipped
    template is not used instead."""
    for folder in folders:
        if folder.holds and not name.startswith(folder.holds):
            continue
        text = _read_from_folder(folder, name.removeprefix(folder.holds))
        if text is not None:
            return Template(name, text.rstrip(folder.strip))
    return packaged_template(name)


@lru_cache(maxsize=64)
def packaged_template(name: str) -> Template:
    """A template shipped with qwen-lsp (read once: it changes only with an upgrade)."""
    path = packaged_prompts_dir().joinpath(*_name_parts(name, None))
    path = path.with_name(f"{path.name}.md")
    try:
        return Template(name, path.read_text(encoding="utf-8").rstrip("\n"))
    except FileNotFoundError:
        raise FileNotFoundError(f"no shipped prompt template {name!r} ({path})") from None


# -- reading a template from a folder under the rules ------------------------------------------


def _read_from_folder(folder: TemplateFolder, name: str) -> str | None:
    """The text of `name` in `folder`, None when the folder does not hold it; TemplateRefused
    when it does but breaks a rule."""
    *parents, last = _name_parts(name, folder)
    steps = (*folder.below, *parents)
    target = folder.path.joinpath(*parents, f"{last}.md")
    try:
        data = (_read_by_fd if _WALK_BY_FD else _read_by_lstat)(folder, steps, f"{last}.md")
        return data.decode("utf-8")
    except _Absent:
        return None
    except UnicodeDecodeError as exc:
        reason = f"it is not UTF-8 text (byte {exc.start})"
    except _Refusal as refusal:
        reason = str(refusal)
    raise TemplateRefused(
        f"qwen-lsp: refused the prompt template {target} (from {folder.origin}): {reason}"
    )


class _Absent(Exception):
    """The template is not in this folder: look in the next one."""


class _Refusal(Exception):
    """Why a template breaks a rule, in words for the user."""


def _name_parts(name: str, folder: TemplateFolder | None) -> list[str]:
    """`actions/fix` as its parts; a name that could leave its folder is refused."""
    parts = name.split("/")
    if all(_NAME_PART.fullmatch(part) for part in parts):
        return parts
    where = f" (from {folder.origin})" if folder is not None else ""
    raise TemplateRefused(
        f"qwen-lsp: refused the prompt template name {name!r}{where}: a template name is "
        "made of plain folder and file names, with no '..', no leading '/' and no '\\'"
    )


def _read_by_fd(folder: TemplateFolder, steps: Sequence[str], file_name: str) -> bytes:
    """Walk from the folder's root holding each folder open, following no link, then read."""
    try:
        fd = os.open(folder.root, os.O_RDONLY | _O_DIRECTORY | _O_CLOEXEC)
    except OSError as exc:
        raise _root_problem(folder, exc) from None
    here = folder.root
    try:
        for step in steps:
            here = here / step
            try:
                child = os.open(
                    step, os.O_RDONLY | _O_DIRECTORY | os.O_NOFOLLOW | _O_CLOEXEC, dir_fd=fd
                )
            except FileNotFoundError:
                raise _Absent from None
            except OSError as exc:
                # Which rule it broke: lstat tells a link from a file (errno differs by system).
                raise _folder_problem(here, exc, _lstat(step, fd)) from None
            os.close(fd)
            fd = child
        try:
            before = os.lstat(file_name, dir_fd=fd)
        except FileNotFoundError:
            raise _Absent from None
        except OSError as exc:
            raise _Refusal(exc.strerror or str(exc)) from None
        _check_file(before)  # a FIFO or a device is never opened: opening one may block
        try:
            handle = os.open(
                file_name, os.O_RDONLY | os.O_NOFOLLOW | _O_NONBLOCK | _O_CLOEXEC, dir_fd=fd
            )
        except OSError as exc:  # replaced by a link since the lstat: O_NOFOLLOW refuses it
            raise _Refusal(exc.strerror or str(exc)) from None
    finally:
        os.close(fd)
    return _read_open_file(handle, before)


def _lstat(name: str, dir_fd: int) -> os.stat_result | None:
    try:
        return os.lstat(name, dir_fd=dir_fd)
    except OSError:
        return None


def _read_by_lstat(folder: TemplateFolder, steps: Sequence[str], file_name: str) -> bytes:
    """The same walk by path, each step checked with lstat, for systems without `dir_fd`."""
    try:
        if not stat.S_ISDIR(os.stat(folder.root).st_mode):
            raise NotADirectoryError(errno.ENOTDIR, "Not a directory")
    except OSError as exc:
        raise _root_problem(folder, exc) from None
    here = folder.root
    for step in steps:
        here = here / step
        try:
            info = os.lstat(here)
        except FileNotFoundError:
            raise _Absent from None
        except OSError as exc:
            raise _folder_problem(here, exc, None) from None
        if _is_link(info) or not stat.S_ISDIR(info.st_mode):
            raise _folder_problem(here, None, info)
    path = here / file_name
    try:
        before = os.lstat(path)
    except FileNotFoundError:
        raise _Absent from None
    except OSError as exc:
        raise _Refusal(exc.strerror or str(exc)) from None
    _check_file(before)
    try:
        handle = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0) | _O_NONBLOCK)
    except OSError as exc:
        raise _Refusal(exc.strerror or str(exc)) from None
    return _read_open_file(handle, before)  # checks it is still the file lstat saw


def _root_problem(folder: TemplateFolder, exc: OSError) -> Exception:
    """The configured folder itself cannot be opened: absent is fine unless a setting names it."""
    if isinstance(exc, FileNotFoundError):
        if not folder.required:
            return _Absent()
        return _Refusal(f"the folder {folder.root} does not exist")
    if isinstance(exc, NotADirectoryError):
        return _Refusal(f"{folder.root} is not a folder")
    return _Refusal(f"cannot open the folder {folder.root}: {exc.strerror or exc}")


def _folder_problem(path: Path, exc: OSError | None, info: os.stat_result | None) -> Exception:
    if info is not None and _is_link(info):
        return _Refusal(f"the folder {path} on its way is a symbolic link{_LINK_RULE}")
    if info is not None and not stat.S_ISDIR(info.st_mode):
        return _Refusal(f"{path} on its way is not a folder")
    detail = (exc.strerror or str(exc)) if exc is not None else "cannot be opened"
    return _Refusal(f"cannot open the folder {path}: {detail}")


_LINK_RULE = " (templates are read only as regular files, never through a link)"


def _is_link(info: os.stat_result) -> bool:
    # A Windows junction is a link to a folder that lstat does not report as S_IFLNK.
    reparse = getattr(stat, "FILE_ATTRIBUTE_REPARSE_POINT", 0)
    return stat.S_ISLNK(info.st_mode) or bool(getattr(info, "st_file_attributes", 0) & reparse)


def _check_file(info: os.stat_result) -> None:
    if _is_link(info):
        raise _Refusal(f"it is a symbolic link{_LINK_RULE}")
    if not stat.S_ISREG(info.st_mode):
        raise _Refusal(f"it is not a regular file (it is {_kind(info.st_mode)})")
    if info.st_size > MAX_TEMPLATE_BYTES:
        raise _Refusal(_too_large(info.st_size))


def _read_open_file(handle: int, before: os.stat_result) -> bytes:
    """Read an opened template: the same file that was checked, and no more than the cap."""
    try:
        now = os.fstat(handle)
        if (now.st_dev, now.st_ino) != (before.st_dev, before.st_ino):
            raise _Refusal("it was replaced while it was being read")
        _check_file(now)
        chunks: list[bytes] = []
        total = 0
        while total <= MAX_TEMPLATE_BYTES:
            chunk = os.read(handle, MAX_TEMPLATE_BYTES + 1 - total)
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > MAX_TEMPLATE_BYTES:  # it grew after the check
            raise _Refusal(_too_large(total))
        return b"".join(chunks)
    except OSError as exc:
        raise _Refusal(exc.strerror or str(exc)) from None
    finally:
        os.close(handle)


def _too_large(size: int) -> str:
    return f"it is larger than {MAX_TEMPLATE_BYTES // 1024} KiB ({size} bytes)"


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a file"


@dataclass(frozen=True)
class Snippet:
    """Code from another file, for the repo-level prompt."""

    path: str
    content: str


@dataclass(frozen=True)
class CompletionPrompt:
    request: GenerationRequest
    mode: PromptMode
    template_version: str


def fim_prompt(
    ctx: CursorContext, *, repo_name: str | None = None, snippets: Iterable[Snippet] = ()
) -> str:
    """Qwen's FIM string: file level, or repo level when a repo name or snippets are given.

    Each file appears once, the current one last: its own excerpt (the headers enclosing the
    cursor, definitions outside the window) opens its block, before the window's prefix.
    """
    snippets = list(snippets)
    if repo_name is None and not snippets:
        return f"{FIM_PREFIX}{ctx.prefix}{FIM_SUFFIX}{ctx.suffix}{FIM_MIDDLE}"
    excerpt = "".join(f"{s.content}\n\n" for s in snippets if s.path == ctx.path)
    parts = [f"{REPO_NAME}{repo_name or 'repository'}\n"]
    parts.extend(f"{FILE_SEP}{s.path}\n{s.content}\n" for s in snippets if s.path != ctx.path)
    parts.append(
        f"{FILE_SEP}{ctx.path}\n{FIM_PREFIX}{excerpt}{ctx.prefix}{FIM_SUFFIX}{ctx.suffix}{FIM_MIDDLE}"
    )
    return "".join(parts)


def related_section(snippets: Iterable[Snippet]) -> str:
    """The chat modes' compact form of the same snippets."""
    blocks = [f"--- {s.path}\n{s.content}\n" for s in snippets]
    return "Related code from the repository:\n" + "".join(blocks) + "\n" if blocks else ""


def build_completion_prompt(
    mode: PromptMode,
    ctx: CursorContext,
    *,
    model: str,
    max_tokens: int,
    temperature: float,
    library: PromptLibrary,
    repo_name: str | None = None,
    snippets: Sequence[Snippet] = (),
) -> CompletionPrompt:
    """The request for a completion at `ctx` in `mode`."""
    language = ctx.language or "text"
    values = {
        "language": language,
        "path": ctx.path or "untitled",
        "prefix": ctx.prefix,
        "suffix": ctx.suffix,
        "hole": HOLE,
        "related": related_section(snippets),
    }
    sampling = {"model": model, "max_tokens": max_tokens, "temperature": temperature}
    if mode is PromptMode.FIM:
        prompt = fim_prompt(ctx, repo_name=repo_name, snippets=snippets)
        request = GenerationRequest(prompt=prompt, stop=QWEN_STOP_TOKENS, **sampling)
        return CompletionPrompt(request, mode, FIM_FORMAT_VERSION)
    name = "partial" if mode is PromptMode.PARTIAL else "chat"
    system = library.get(f"completion/{name}.system")
    user = library.get(f"completion/{name}.user")
    messages = [
        Message("system", system.render(values)),
        Message("user", user.render(values)),
    ]
    if mode is PromptMode.PARTIAL:
        messages.append(Message("assistant", ctx.prefix, partial=True))
    request = GenerationRequest(messages=tuple(messages), stop=(IM_END, END_OF_TEXT), **sampling)
    return CompletionPrompt(request, mode, f"{system.version}.{user.version}")
