# Self-modifying code (unprivileged spec chapter 3, "Zifencei"): main stores new instructions over
# ones it has already executed, then runs them again. With FENCE.I the spec requires the new
# instruction; without it either is allowed, and this machine deterministically runs the new one:
# the store drops the predecoded copy before the next fetch. QEMU agrees wherever a jump separates
# the store from the rewritten instruction, as here (a store to the very next instruction, where
# QEMU runs the old one, is in PredecodeTests). Covers a 32-bit instruction, a compressed one
# rewritten by a halfword store, and a 32-bit instruction straddling a page boundary whose second
# half (in the next page) is rewritten. Prints "AB CD 12 ST".
main:
    addi sp, sp, -16
    sd ra, 8(sp)

    # Without FENCE.I: p1 runs, is rewritten, runs again.
    la s0, p1
    li s1, 0x04200513           # addi a0, zero, 'B'
    li s2, 2
1:
p1: addi a0, zero, 65           # 'A'
    call putc
    sw s1, 0(s0)
    addi s2, s2, -1
    bnez s2, 1b
    li a0, 32
    call putc

    # With FENCE.I.
    la s0, p2
    li s1, 0x04400513           # addi a0, zero, 'D'
    li s2, 2
2:
p2: addi a0, zero, 67           # 'C'
    call putc
    sw s1, 0(s0)
    fence.i
    addi s2, s2, -1
    bnez s2, 2b
    li a0, 32
    call putc

    # A compressed instruction (c.li a0, 1), rewritten by a halfword store to c.li a0, 2.
    la s0, p4
    li s1, 0x4509               # c.li a0, 2
    li s2, 2
4:
p4: .2byte 0x4505               # c.li a0, 1
    .2byte 0x0001               # c.nop, so what follows is 4-byte aligned again
    addi a0, a0, 48
    call putc
    sh s1, 0(s0)
    addi s2, s2, -1
    bnez s2, 4b
    li a0, 32
    call putc

    # A 32-bit instruction at offset 0xffe of a page: its immediate lives in the half in the next
    # page, which a halfword store rewrites from 'S' to 'T'.
    la s0, p5
    li s1, 0x540                # upper half of addi a0, zero, 'T'
    li s2, 2
6:  j p5
5:
    call putc
    sh s1, 2(s0)
    addi s2, s2, -1
    bnez s2, 6b
    li a0, 10
    call putc

    li a0, 0
    ld ra, 8(sp)
    addi sp, sp, 16
    ret

    .balign 4096
    .skip 4094
p5: .4byte 0x05300513           # addi a0, zero, 'S', straddling the page boundary
    .2byte 0x0001               # c.nop, so the jump back is 4-byte aligned
    j 5b
