#!/usr/bin/env python3
"""placeholder, being written"""
