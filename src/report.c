/* report.c: being written */
