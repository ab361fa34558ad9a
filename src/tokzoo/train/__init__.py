"""tokzoo.train"""
