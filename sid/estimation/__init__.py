"""sid.estimation"""
