# RV64C: every compressed instruction, written explicitly (c.*) and produced by GNU as's automatic
# compression (-march=rv64imac). Assembled by GNU as + ld into compressed.elf.hex (our assembler does
# not emit C yet); the test runs that ELF here and under QEMU.
    .option rvc
    .text
    .globl _start
_start:
    la sp, stack_top
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
    mv s2, a0
    call show_a0                  # 0
    mv a0, a1
    call show_a0                  # 4
    mv a0, a5
    call show_a0                  # 1
    mv a0, s1
    call show_a0                  # 65 = 0x41
    li a4, 0
    li a5, 3
1:  c.addi a4, 1
    c.bnez a5, 2f
    c.j 3f
2:  c.addi a5, -1
    c.beqz a4, 1b                 # never taken
    c.j 1b
3:  mv a0, a4
    call show_a0                  # 4
    la t0, target
    c.jalr t0                     # returns through c.jr
    mv a0, s5
    call show_a0                  # 0x77
    li t0, 0x100000
    li t1, 0x5555
    sw t1, 0(t0)
4:  j 4b

target:
    li s5, 0x77
    c.jr ra

# show_a0: a0 as 16 hex digits and a newline
show_a0:
    li t0, 0x10000000
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

    .bss
    .align 4
stack: .zero 1024
stack_top:
