"""Sage 100 "format Sage" flat files: read an export, write a customer (``#MPCT``) import file.

Format (``shared/domain/formats.md`` §7.1, Sage v12.25 field catalogue): CP850, CRLF; header
``#FLG 000``, ``#VER nn``, ``#DEV EUR``; records as a flag line (``#MPCT``...) followed by **one field
per line** (an empty field is an empty line, never omitted); children (``#MCDL``, ``#MRLT``,
``#MBQT``, ``#MCTT``, ``#MIVA``...) follow their ``#MPCT``; end ``#FIN``. Decimals take a comma.

Importing an ``#MPCT`` overwrites the whole customer record (fields missing are blanked), so the
write-back file is built from the latest export: each record is re-emitted field for field, with
its children, and only the fields erp-recovery owns (positions in ``mappings/sage100_mpct.toml``)
change.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from erp_recovery.connectors.sage.fec_rules import mapping_path

from erp_recovery.errors import MappingError, ParseError
from erp_recovery.model.money import Money

#: Flags of the records that belong to the preceding #MPCT (customer children).
MPCT_CHILDREN = frozenset({"#MCDL", "#MRLT", "#MBQT", "#MCTT", "#MIVA", "#MHIT", "#MCPT"})
#: The #MPCT block has 133 fixed fields, then one line per attached general account.
MPCT_FIXED_FIELDS = 133


@dataclass
class Block:
    """One record: its flag, its field lines, and the line number of the flag in the file."""

    flag: str
    fields: list[str]
    line: int
    children: list[Block] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [self.flag, *self.fields]
        for child in self.children:
            out.extend(child.lines())
        return out


def copy_block(block: Block) -> Block:
    """A copy whose fields can change without touching the export it was read from."""
    return Block(
        flag=block.flag,
        fields=list(block.fields),
        line=block.line,
        children=[copy_block(c) for c in block.children],
    )


@dataclass
class SageFile:
    header: list[str]
    blocks: list[Block]

    def customers(self) -> dict[str, Block]:
        return {
            block.fields[0].strip(): block for block in self.blocks if block.flag == "#MPCT" and block.fields
        }


@dataclass(frozen=True)
class MpctLayout:
    """Positions (1-based) of the write-back fields, from ``mappings/sage100_mpct.toml``."""

    positions: dict[str, int]
    encoding: str = "cp850"
    line_ending: str = "\r\n"
    blocked_value: str = "2"
    unblocked_value: str = "0"


def load_layout(name_or_path: str = "sage100_mpct") -> MpctLayout:
    path = mapping_path(name_or_path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise MappingError(f"cannot read the #MPCT layout: {exc}", file=str(path)) from None
    positions = {str(k): int(v) for k, v in data.get("fields", {}).items()}
    for name, position in positions.items():
        if not 1 <= position <= MPCT_FIXED_FIELDS:
            raise MappingError(
                f"fields.{name} = {position}: #MPCT has fields 1 to {MPCT_FIXED_FIELDS}", file=str(path)
            )
    file = data.get("file", {})
    values = data.get("values", {})
    return MpctLayout(
        positions=positions,
        encoding=file.get("encoding", "cp850"),
        line_ending=file.get("line_ending", "\r\n"),
        blocked_value=str(values.get("blocked", "2")),
        unblocked_value=str(values.get("unblocked", "0")),
    )


def read_format_sage(path: Path, encoding: str = "cp850") -> SageFile:
    """Parse a "format Sage" export into blocks; children are attached to their #MPCT."""
    try:
        text = path.read_bytes().decode(encoding)
    except OSError as exc:
        raise ParseError(f"cannot read: {exc.strerror}", file=str(path)) from None
    lines = text.replace("\r\n", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    header: list[str] = []
    index = 0
    while index < len(lines) and lines[index].startswith(("#FLG", "#VER", "#DEV")):
        header.append(lines[index])
        index += 1
    if not header or not header[0].startswith("#FLG"):
        raise ParseError("not a Sage 'format Sage' file (no #FLG header)", file=str(path), line=1)
    blocks: list[Block] = []
    current: Block | None = None
    ended = False
    for number, line in enumerate(lines[index:], start=index + 1):
        if line == "#FIN":
            ended = True
            break
        if line.startswith("#") and line[1:5].isalpha() and line[1:5].isupper() and len(line.rstrip()) == 5:
            block = Block(flag=line.rstrip(), fields=[], line=number)
            parent = blocks[-1] if blocks and blocks[-1].flag == "#MPCT" else None
            if block.flag in MPCT_CHILDREN and parent is not None:
                parent.children.append(block)
            else:
                blocks.append(block)
            current = block
            continue
        if current is None:
            raise ParseError(f"field line before any record flag: {line!r}", file=str(path), line=number)
        current.fields.append(line)
    if not ended:
        raise ParseError("no #FIN line: the export is truncated", file=str(path), line=len(lines))
    for block in blocks:
        if block.flag == "#MPCT" and len(block.fields) < MPCT_FIXED_FIELDS + 1:
            raise ParseError(
                f"#MPCT record has {len(block.fields)} lines, at least {MPCT_FIXED_FIELDS + 1} expected",
                file=str(path),
                line=block.line,
            )
    return SageFile(header=header, blocks=blocks)


def format_amount(value: Money | Decimal | None) -> str:
    amount = value.amount if isinstance(value, Money) else (value if value is not None else Decimal(0))
    return f"{amount.quantize(Decimal('0.01')):f}".replace(".", ",")


def parse_amount(text: str) -> Decimal:
    return Decimal(text.strip().replace(" ", "").replace(",", ".") or "0")


def current_values(block: Block, layout: MpctLayout) -> dict[str, object]:
    """The write-back fields of one #MPCT record, as the write-back vocabulary holds them."""
    values: dict[str, object] = {}
    for name, position in layout.positions.items():
        raw = block.fields[position - 1].strip()
        if name == "credit_limit":
            amount = parse_amount(raw)
            values[name] = Money(amount=amount, currency="EUR") if amount else None
        elif name == "blocked":
            values[name] = raw == layout.blocked_value
        elif name == "dunning_excluded":
            values[name] = raw == "1"
        else:
            values[name] = raw or None
    return values


def set_value(block: Block, layout: MpctLayout, name: str, value: object) -> None:
    if name not in layout.positions:
        raise MappingError(
            f"the #MPCT layout has no position for {name!r}; known: {', '.join(layout.positions)}"
        )
    index = layout.positions[name] - 1
    if name == "credit_limit":
        text = format_amount(value if isinstance(value, Money | Decimal) else None)
    elif name == "blocked":
        text = layout.blocked_value if value else layout.unblocked_value
    elif name == "dunning_excluded":
        text = "1" if value else "0"
    else:
        text = "" if value is None else str(value)
    block.fields[index] = text


def render_import_file(header: list[str], blocks: list[Block], layout: MpctLayout) -> bytes:
    """The bytes of an import file: the export's header, the given records, ``#FIN``."""
    lines = [*header]
    for block in blocks:
        lines.extend(block.lines())
    lines.append("#FIN")
    return (layout.line_ending.join(lines) + layout.line_ending).encode(layout.encoding)
