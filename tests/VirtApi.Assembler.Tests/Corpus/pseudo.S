# Pseudo-instructions, li of every width, pc-relative addressing, relocations and expressions.
    .equ UART, 0x10000000
    .set BIG, 0x123456789abcdef0
    .text
    .globl _start
_start:
    li a0, 0
    li a0, 1
    li a0, -1
    li a0, 2047
    li a0, -2048
    li a0, 2048
    li a0, 0x7ffff800
    li a0, 0x7fffffff
    li a0, -0x80000000
    li a0, 0x80000000
    li a0, 0xffffffff
    li a0, 0x100000000
    li a0, BIG
    li a0, 0x8000000000000000
    li a0, -0x123456789
    li t0, UART
    li a1, (1 << 16) | 0x3333
    li a2, 10 * 3 + 4 / 2 - 7 % 3
    li a3, ~0x0f & 0xff ^ 3
    la a0, msg
    lla a1, value
    call helper
    tail helper
    mv a0, a1
    not a0, a1
    neg a0, a1
    negw a0, a1
    sext.w a0, a1
    seqz a0, a1
    snez a0, a1
    sltz a0, a1
    sgtz a0, a1
    beqz a0, _start
    bnez a0, helper
    blez a0, _start
    bgez a0, _start
    bltz a0, _start
    bgtz a0, _start
    bgt a0, a1, _start
    ble a0, a1, _start
    bgtu a0, a1, _start
    bleu a0, a1, _start
    j _start
    jr ra
    ret
    csrr a0, mhartid
    csrw mscratch, a0
    csrs mie, a1
    csrc mip, a1
    csrwi mstatus, 8
    csrsi sstatus, 2
    csrci sie, 31
    rdcycle a0
    rdtime a1
    rdinstret a2
1:  auipc a0, %pcrel_hi(msg)
    addi a0, a0, %pcrel_lo(1b)
    lui a1, %hi(0x12345fff)
    addi a1, a1, %lo(0x12345fff)
    lw a2, %lo(UART + 0x7ff)(a1)
helper:
    ret
    .section .rodata
msg:
    .asciz "hello, \"world\"\n"
    .ascii "ab", "c\t\x41\101"
    .string "end"
    .section .data
    .align 3
value:
    .dword BIG, msg
    .quad -1
    .word 0xdeadbeef, msg - _start
    .long 7
    .half 0xffff, -1
    .short 2
    .byte 1, 2, 255, -128
    .p2align 2
    .balign 8, 0xaa
    .fill 3, 2, 0x1234
    .zero 5
    .space 3, 7
    .bss
    .align 4
buffer:
    .zero 100
    .space 28
