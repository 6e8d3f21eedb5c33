"""Files in and out: SPSS, the raw wave, atomic writes; personal keys (raw national register
numbers refused, keyed pseudonyms: :mod:`sid.io.pseudonym`)."""
