/* keyparse.c: being written */
