"""Mixed-type tables (numbers, categories, yes/no, dates, missing cells), the CTGAN way.

* :mod:`~gankit.tables.schema`: what each column is (:class:`Column`), for the whole table
  (:class:`TableSchema`), and the *column space* every part shares;
* :mod:`~gankit.tables.read`: a CSV, Parquet file or pandas DataFrame -> column types inferred
  (and overridden by ``data.columns``) -> the column-space matrix; and back to a DataFrame / CSV;
* :mod:`~gankit.tables.transform`: column space <-> the generator's space (mode-specific
  normalisation with a variational Gaussian mixture per number column, one-hot categories);
* :mod:`~gankit.tables.condition`: the conditional vector and training-by-sampling.

:mod:`gankit.data.frames` loads a table this way for the table task (:mod:`gankit.tasks.table`).

The *column space* is an (N, C) float64 matrix with one column per used (not ignored) column in
file order: numbers as they are, datetimes as seconds since 1970, categories (and booleans) as
their index in ``Column.categories``; a missing cell is NaN in every kind.
"""
