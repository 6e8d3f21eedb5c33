"""The run folder (docs/run-folder.md): its manifest, the wave it holds, its processed wave.

manifest   DIR/manifest.json: what each stage read and wrote, with hashes (record_stage)
context    the project's Wave a stage works on: named, recorded at ingest, or the default
wave       sid.open_wave: the processed wave as data + metadata + survey design
"""
