# RV64C: every compressed instruction written explicitly (c.*) at its boundary immediates and
# registers (x8-x15 for the 3-bit register fields), GNU as's automatic compression of every
# compressible form under .option rvc (and the near misses it leaves 32-bit), .option push/pop
# nesting, relaxed c.j/c.beqz/c.bnez/j/beqz/bnez to labels forwards and backwards at the edge of
# their reach, and code alignment padding next to compressed code.
    .option rvc
    .text
    .globl _start
_start:
    # Quadrant 0: scaled unsigned offsets, x8-x15 only.
    c.addi4spn s0, sp, 4
    c.addi4spn a5, sp, 1020
    c.addi4spn a0, sp, 512
    c.lw s0, 0(a5)
    c.lw a5, 124(s0)
    c.lw a0, (a1)
    c.ld s1, 0(a4)
    c.ld a4, 248(s1)
    c.sw s0, 124(a5)
    c.sw a5, 0(s0)
    c.sd a3, 248(s0)
    c.sd s0, 8(a5)
    # Quadrant 1.
    c.nop
    c.addi a0, 1
    c.addi t6, -32
    c.addi ra, 31
    c.addi a0, 0
    c.addi zero, 5
    c.addiw a0, -32
    c.addiw t6, 31
    c.addiw a1, 0
    c.li a0, -32
    c.li t6, 31
    c.li ra, 0
    c.li zero, 5
    c.addi16sp sp, -512
    c.addi16sp sp, 496
    c.addi16sp sp, 16
    c.addi16sp sp, -16
    c.lui a0, 1
    c.lui t6, 31
    c.lui ra, 0xfffe0
    c.lui s0, 0xfffff
    c.lui zero, 1
    c.srli s0, 1
    c.srli a5, 63
    c.srli a0, 32
    c.srai s0, 1
    c.srai a5, 63
    c.andi s0, -32
    c.andi a5, 31
    c.andi a0, 0
    c.sub s0, a5
    c.xor a5, s0
    c.or a0, a1
    c.and s1, a2
    c.subw a3, a4
    c.addw a5, s0
    # Quadrant 2.
    c.slli a0, 1
    c.slli t6, 63
    c.slli ra, 32
    c.slli zero, 3
    c.lwsp ra, 0(sp)
    c.lwsp t6, 252(sp)
    c.lwsp a0, (sp)
    c.ldsp ra, 504(sp)
    c.ldsp t6, 0(sp)
    c.swsp zero, 252(sp)
    c.swsp t6, 0(sp)
    c.sdsp ra, 504(sp)
    c.sdsp t6, 8(sp)
    c.jr ra
    c.jr t6
    c.jalr a0
    c.jalr t6
    c.mv a0, t6
    c.mv t6, ra
    c.mv zero, a0
    c.add a0, t6
    c.add t6, ra
    c.add zero, a0
    c.ebreak

    # Automatic compression: each compressible form, then the near misses that stay 32-bit.
    addi s0, sp, 4
    addi a5, sp, 1020
    addi a0, sp, 1024
    addi a0, sp, 2
    addi a0, a0, 1
    addi t6, t6, -32
    addi t6, t6, 31
    addi t6, t6, 32
    addi zero, zero, 0
    nop
    addi sp, sp, -512
    addi sp, sp, 496
    addi sp, sp, 16
    addi sp, sp, 48
    addi sp, sp, 24
    addi a0, zero, -32
    li t6, 31
    li a0, 32
    li zero, 1
    mv a0, t6
    mv a0, zero
    mv zero, a0
    addi a0, a1, 0
    addi sp, sp, 0
    add a0, a0, t6
    add a0, t6, a0
    add a0, zero, t6
    add a0, a0, zero
    add zero, zero, a0
    addiw a0, a0, -32
    addiw t6, t6, 0
    addiw a0, a1, 1
    addiw a0, zero, 1
    sext.w t6, t6
    sext.w a0, a1
    lui a0, 1
    lui t6, 31
    lui ra, 0xfffe0
    lui s0, 0xfffff
    lui a0, 32
    lui a0, 0xfffdf
    lui sp, 1
    lui zero, 1
    lui a0, 0
    srli s0, s0, 1
    srli a5, a5, 63
    srli a0, a0, 0
    srli t0, t0, 1
    srli a0, a1, 1
    srai s0, s0, 63
    srai a5, a5, 1
    srai t0, t0, 1
    andi s0, s0, -32
    andi a5, a5, 31
    andi a0, a0, 0
    andi a0, a0, 32
    andi a0, a1, 1
    andi t0, t0, 1
    sub s0, s0, a5
    sub a5, s0, a5
    sub t0, t0, a0
    xor a5, a5, s0
    xor a5, s0, a5
    or a0, a0, a1
    or a0, a1, a0
    and s1, s1, a2
    and s1, a2, s1
    and t0, t0, a0
    and a0, a1, a2
    subw a3, a3, a4
    subw a3, a4, a3
    addw a5, a5, s0
    addw a5, s0, a5
    addw t0, t0, a0
    slli a0, a0, 1
    slli t6, t6, 63
    slli a0, a0, 0
    slli zero, zero, 3
    slli a0, a1, 1
    lw ra, 0(sp)
    lw t6, 252(sp)
    lw a0, 256(sp)
    lw a0, 2(sp)
    lw zero, 0(sp)
    lw s0, 124(a5)
    lw a0, (a1)
    lw a0, 128(a1)
    lw a0, 2(a1)
    lw t0, 0(a0)
    ld ra, 504(sp)
    ld t6, 0(sp)
    ld a0, 4(sp)
    ld s0, 248(a5)
    ld s0, 256(a5)
    ld a0, -8(a1)
    sw zero, 252(sp)
    sw t6, 0(sp)
    sw a0, 256(sp)
    sw s0, 124(a5)
    sw t0, 0(a0)
    sd ra, 504(sp)
    sd zero, 8(sp)
    sd a3, 248(s0)
    sd a3, 4(s0)
    jr t6
    jalr a0
    ret
    jalr ra, 0(a0)
    jalr zero, 0(t6)
    jalr t0, a1, 0
    ebreak
    ecall
    addi a0, a0, %lo(0x12345)
    addi a0, a0, 7 % 4
    li a2, 10 * 3 + 4 / 2 - 7 % 3
    lw a0, %lo(0x12345)(a1)
    li a0, 0x7fffffff
    li a0, 0x100000000
    li a0, -0x123456789
    la a0, msg
    call helper
    tail helper
    jal helper
    jal zero, helper
    neg s0, s0
    not s0, s0

    # .option push/pop nesting.
    .option push
    .option norvc
    addi a0, a0, 1
    .option push
    .option rvc
    addi a0, a0, 1
    .option pop
    addi a0, a0, 1
    mv a0, a1
    .option pop
    addi a0, a0, 1

    # Branches and jumps to labels, backwards and forwards.
back:
    c.j back
    c.beqz s0, back
    c.bnez a5, back
    j back
    beqz s0, back
    bnez a5, back
    beq a0, zero, back
    bne a1, x0, back
    beqz t0, back
    beq zero, s0, back
    c.j fwd
    c.beqz s1, fwd
    c.bnez a0, fwd
    j fwd
    beqz s0, fwd
    bnez a5, fwd
    beq a0, zero, fwd
    bne a1, x0, fwd
    beqz t0, fwd
    beq zero, s0, fwd
1:  bnez s0, 1b
    beqz s0, 1f
1:  j 1b
fwd:
    # The edges of c.beqz/c.bnez reach (-256, +254) and of c.j (-2048, +2046), and one step past.
    c.beqz s0, 1f
    .fill 126, 2, 0x0001
1:  c.bnez s0, 2f
    .fill 127, 2, 0x0001
2:  beqz a0, 3f
    .fill 126, 2, 0x0001
3:
    .fill 127, 2, 0x0001
    c.beqz s0, 3b
4:
    .fill 128, 2, 0x0001
    c.bnez s1, 4b
    bnez a5, 4b
    c.j 5f
    .fill 1022, 2, 0x0001
5:  j 6f
    .fill 1023, 2, 0x0001
6:
    .fill 1024, 2, 0x0001
    c.j 6b
    j 6b
    c.j _start
    j _start
    c.beqz s0, _start
    beqz s0, back

    # Code alignment padding: c.nop for 2 bytes, a zero byte for an odd count, 4-byte nops; the
    # data bytes are chosen to read as instructions (0x0001 is c.nop, 0x0101 the hint c.addi sp, 0)
    # so that the linear disassembly stays in step with objdump's.
    c.nop
    .align 2
    c.nop
    .align 3
    c.nop
    .balign 8
    c.nop
    .option norvc
    .align 2
    .option rvc
    .byte 1
    .p2align 2
    c.nop
    .byte 1, 0
    .align 2
    c.nop
    .balign 16, 0x01
    c.nop
helper:
    ret
    .align 4
    c.nop

    .section .rodata
msg:
    .asciz "rvc"
