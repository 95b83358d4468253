# hello: prints a greeting on the UART and powers off with exit code 0 (QEMU virt board).
    .equ UART, 0x10000000
    .equ FINISHER, 0x100000

    .text
    .globl _start
_start:
    csrr t0, mhartid            # only hart 0 greets; others wait for ever
    bnez t0, park
    li t0, UART
    la t1, greeting
1:  lbu t2, 0(t1)
    beqz t2, 2f
    sb t2, 0(t0)
    addi t1, t1, 1
    j 1b
2:  li t0, FINISHER
    li t1, 0x5555               # power off, success
    sw t1, 0(t0)
park:
    wfi
    j park

    .section .rodata
greeting:
    .asciz "Hello from VirtApi!\n"
