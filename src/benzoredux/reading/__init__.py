"""Everything a reader needs, in one place: the reader toolkit.

A reader (a plugin for one vendor's export, or one of the built-in adapters) imports from
``benzoredux.reading`` only, next to :mod:`benzoredux.hookspecs` and the public models, tables
and codes; ``tests/reading/test_adapter_imports.py`` holds the built-in adapters to that, as a
third-party adapter would be held. The package's modules, in the order data flows through them:

* :mod:`~benzoredux.reading.text`: a delimited text file or an Excel sheet as text cells with
  line numbers (encoding, separator, title lines before the header);
* :mod:`~benzoredux.reading.mapping`: mapping files, how one practice's export differs from the
  layout a reader expects;
* :mod:`~benzoredux.reading.parsing`: text into dates and numbers, strictly and vectorised;
* :mod:`~benzoredux.reading.raw`: a reader's text cells
  (:class:`~benzoredux.reading.raw.RawTable`) into the canonical tables, checked row by row
  (:func:`~benzoredux.reading.raw.build_result`);
* :mod:`~benzoredux.reading.result`: the result of reading a source, with the rejected rows and
  counts that reconcile (:class:`~benzoredux.reading.result.ReadResult`);
* :mod:`~benzoredux.reading.sources`: finding the reader for a source and reading it
  (:func:`~benzoredux.reading.sources.read_source`);
* :mod:`~benzoredux.reading.canonical`: files already in the canonical layout (CSV with ISO dates,
  or Parquet: :func:`~benzoredux.reading.canonical.read_canonical`).
"""

from __future__ import annotations

from benzoredux.errors import describe_columns
from benzoredux.reading.canonical import FileFormatError, read_canonical
from benzoredux.reading.mapping import TABLES, MappingFileError, SourceMapping, load_mapping
from benzoredux.reading.names import COMBINED_NAME, split_name_column
from benzoredux.reading.parsing import (
    DUTCH_DATE_FORMATS,
    ISO_DATE_FORMATS,
    describe_date_formats,
    parse_dates,
    parse_numbers,
)
from benzoredux.reading.raw import (
    DUTCH_VALUES,
    ParseSettings,
    RawTable,
    build_result,
    distinct_cells,
    raw_table,
)
from benzoredux.reading.result import (
    PROBLEM_COLUMNS,
    ReadError,
    ReadResult,
    TableCounts,
    UnknownFormatError,
)
from benzoredux.reading.sources import (
    DEFAULT_MAPPING_FORMAT,
    detect_format,
    known_formats,
    read_source,
)
from benzoredux.reading.text import (
    EXCEL_SUFFIXES,
    SEPARATORS,
    TextFileError,
    TextTable,
    decode,
    guess_separator,
    header_line_of,
    read_text_table,
    sniff_separator,
    unused_columns_note,
)

__all__ = [
    "COMBINED_NAME",
    "DEFAULT_MAPPING_FORMAT",
    "DUTCH_DATE_FORMATS",
    "DUTCH_VALUES",
    "EXCEL_SUFFIXES",
    "ISO_DATE_FORMATS",
    "PROBLEM_COLUMNS",
    "SEPARATORS",
    "TABLES",
    "FileFormatError",
    "MappingFileError",
    "ParseSettings",
    "RawTable",
    "ReadError",
    "ReadResult",
    "SourceMapping",
    "TableCounts",
    "TextFileError",
    "TextTable",
    "UnknownFormatError",
    "build_result",
    "decode",
    "describe_columns",
    "describe_date_formats",
    "detect_format",
    "distinct_cells",
    "guess_separator",
    "header_line_of",
    "known_formats",
    "load_mapping",
    "parse_dates",
    "parse_numbers",
    "raw_table",
    "read_canonical",
    "read_source",
    "read_text_table",
    "sniff_separator",
    "split_name_column",
    "unused_columns_note",
]
