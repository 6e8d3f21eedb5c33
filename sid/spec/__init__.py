"""sid.spec"""
