# The test finisher reports a failure code: this program prints a line and exits with 7.
main:
    addi sp, sp, -16
    sd ra, 8(sp)
    la a0, l_msg
    call puts
    li a0, 7
    ld ra, 8(sp)
    addi sp, sp, 16
    ret
    .section .rodata
l_msg: .asciz "exiting with 7\n"
