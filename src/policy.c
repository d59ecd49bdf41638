/* policy.c: being written */
