"""sid.scales"""
