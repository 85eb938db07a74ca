#!/bin/sh
# Adds up the numbers, one a line, in the file given.
total=0
for n in $(cat "$1"); do total=$((total + n)); done
echo "$total"
