"""sid.report"""
