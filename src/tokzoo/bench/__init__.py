"""tokzoo.bench"""
