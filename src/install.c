/* install.c: being written */
