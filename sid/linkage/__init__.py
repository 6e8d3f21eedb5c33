"""sid.linkage"""
