"""sid.weighting"""
