"""tokzoo.nn"""
