# Prelude prepended to every test program: hart 0 sets up a stack and a trap reporter and calls
# main; main's return value is the exit code (test finisher). Helpers clobber only t0-t3 and a0.
    .equ UART, 0x10000000
    .equ FINISHER, 0x100000
    .text
    .globl _start
_start:
    csrr t0, mhartid
    bnez t0, __park
    la sp, __stack_top
    la t0, __unexpected_trap
    csrw mtvec, t0
    # Grant S and U access to all memory with one NAPOT PMP entry: QEMU enforces PMP and denies
    # lower privileges by default; this machine accepts PMP settings without enforcing them.
    li t0, -1
    csrw pmpaddr0, t0
    li t0, 0x1f
    csrw pmpcfg0, t0
    call main
    j __exit
__park:
    wfi
    j __park
# __exit(a0 = code): 0 = success, else failure with that code
__exit:
    beqz a0, 1f
    slli a0, a0, 16
    li t0, 0x3333
    or a0, a0, t0
    j 2f
1:  li a0, 0x5555
2:  li t0, FINISHER
    sw a0, 0(t0)
3:  j 3b
__unexpected_trap:
    la a0, __msg_trap
    call puts
    csrr a0, mcause
    call puthex
    csrr a0, mepc
    call puthex
    csrr a0, mtval
    call puthex
    li a0, 99
    j __exit
# putc(a0)
putc:
    li t0, UART
    sb a0, 0(t0)
    ret
# puts(a0 = string)
puts:
    li t0, UART
1:  lbu t1, 0(a0)
    beqz t1, 2f
    sb t1, 0(t0)
    addi a0, a0, 1
    j 1b
2:  ret
# puthex(a0): 16 hex digits, then a newline
puthex:
    li t0, UART
    li t1, 60
1:  srl t2, a0, t1
    andi t2, t2, 15
    li t3, 10
    blt t2, t3, 2f
    addi t2, t2, 87
    j 3f
2:  addi t2, t2, 48
3:  sb t2, 0(t0)
    addi t1, t1, -4
    bgez t1, 1b
    li t2, 10
    sb t2, 0(t0)
    ret
# show(a0 = label, a1 = value): "label value\n"
show:
    addi sp, sp, -16
    sd ra, 8(sp)
    sd a1, 0(sp)
    call puts
    li a0, 32
    call putc
    ld a0, 0(sp)
    call puthex
    ld ra, 8(sp)
    addi sp, sp, 16
    ret
    .section .rodata
__msg_trap: .asciz "unexpected trap: mcause, mepc, mtval\n"
    .bss
    .align 4
__stack: .zero 8192
__stack_top:
    .text
