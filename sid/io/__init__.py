"""Files in and out: SPSS, the raw wave, atomic writes."""
