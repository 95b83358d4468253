# RV64C: every compressed instruction, written explicitly (c.*) and produced by automatic
# compression under .option rvc (the prelude before it stays uncompressed). Our assembler builds it;
# compressed.elf.hex is what GNU as + ld build from the same prelude + source, and
# CompressedProgramTests checks that both load the same bytes.
    .option rvc
main:
    addi sp, sp, -16
    sd ra, 8(sp)
    c.li s0, 5
    c.addi s0, -3                 # 2
    c.slli s0, 4                  # 32
    c.mv s1, s0
    c.add s1, s0                  # 64
    c.addiw s1, 1                 # 65
    c.lui a5, 1                   # 0x1000
    c.addi16sp sp, -64
    c.addi4spn a4, sp, 16
    c.sdsp s1, 8(sp)
    c.ldsp a3, 8(sp)              # 65
    c.swsp s0, 16(sp)
    c.lwsp a2, 16(sp)             # 32
    c.sd a3, 8(a4)
    c.ld a0, 8(a4)                # 65
    c.sw a2, 0(a4)
    c.lw a1, 0(a4)                # 32
    c.sub a0, a1                  # 33
    c.xor a0, a1                  # 1
    c.or a0, a1                   # 33
    c.and a0, a1                  # 32
    c.subw a0, a1                 # 0
    c.addw a0, a1                 # 32
    c.andi a0, 0x1f               # 0
    c.srli a1, 3                  # 4
    c.srai a5, 12                 # 1
    c.addi16sp sp, 64
    mv s2, a1
    call puthex                   # 0
    mv a0, s2
    call puthex                   # 4
    mv a0, a5
    call puthex                   # 1
    mv a0, s1
    call puthex                   # 65 = 0x41
    li a4, 0
    li a5, 3
1:  c.addi a4, 1
    c.bnez a5, 2f
    c.j 3f
2:  c.addi a5, -1
    c.beqz a4, 1b                 # never taken
    c.j 1b
3:  mv a0, a4
    call puthex                   # 4
    la t0, target
    c.jalr t0                     # returns through c.jr
    mv a0, s5
    call puthex                   # 0x77
    ld ra, 8(sp)
    addi sp, sp, 16
    li a0, 0
    ret

target:
    li s5, 0x77
    c.jr ra
