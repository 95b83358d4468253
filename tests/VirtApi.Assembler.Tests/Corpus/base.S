# RV64I, M, A, Zicsr, Zifencei and privileged instructions with boundary immediates and registers.
    .text
    .globl _start
_start:
    add x0, x1, x2
    add t6, s11, a7
    sub a0, a1, a2
    sll a0, a1, a2
    slt a0, a1, a2
    sltu a0, a1, a2
    xor a0, a1, a2
    srl a0, a1, a2
    sra a0, a1, a2
    or a0, a1, a2
    and a0, a1, a2
    addw a0, a1, a2
    subw a0, a1, a2
    sllw a0, a1, a2
    srlw a0, a1, a2
    sraw a0, a1, a2
    mul a0, a1, a2
    mulh a0, a1, a2
    mulhsu a0, a1, a2
    mulhu a0, a1, a2
    div a0, a1, a2
    divu a0, a1, a2
    rem a0, a1, a2
    remu a0, a1, a2
    mulw a0, a1, a2
    divw a0, a1, a2
    divuw a0, a1, a2
    remw a0, a1, a2
    remuw a0, a1, a2
    addi a0, a1, -2048
    addi a0, a1, 2047
    slti a0, a1, -1
    sltiu a0, a1, 1
    xori a0, a1, 0x7ff
    ori a0, a1, -0x800
    andi a0, a1, 255
    addiw a0, a1, -5
    slli a0, a1, 63
    srli a0, a1, 0
    srai a0, a1, 33
    slliw a0, a1, 31
    srliw a0, a1, 1
    sraiw a0, a1, 17
    lb a0, -2048(a1)
    lh a0, 2047(sp)
    lw a0, 0(a1)
    ld a0, 8(sp)
    lbu a0, (a1)
    lhu a0, 2(a1)
    lwu a0, 4(a1)
    sb a0, -1(a1)
    sh a0, 2047(a1)
    sw a0, -2048(sp)
    sd ra, 8(sp)
    lui a0, 0xfffff
    lui a0, 0
    auipc a0, 0x12345
1:  beq a0, a1, 1b
    bne a0, a1, 2f
    blt a0, a1, 1b
    bge a0, a1, 2f
    bltu a0, a1, _start
    bgeu a0, a1, far
2:  jal ra, 1b
    jal 2b
    jal x0, far
    jalr ra, 0(a0)
    jalr a0
    jalr t0, a1, -4
    ecall
    ebreak
    sret
    mret
    wfi
    sfence.vma
    sfence.vma a0
    sfence.vma a0, a1
    fence
    fence rw, rw
    fence iorw, ow
    fence.i
    csrrw a0, mstatus, a1
    csrrs a0, mie, zero
    csrrc a0, 0x340, a1
    csrrwi a0, mtvec, 31
    csrrsi a0, sstatus, 0
    csrrci a0, satp, 5
    lr.w a0, (a1)
    lr.d.aq a0, (a1)
    sc.w a0, a2, (a1)
    sc.d.rl a0, a2, (a1)
    amoswap.w a0, a2, (a1)
    amoadd.d.aqrl a0, a2, (a1)
    amoxor.w a0, a2, (a1)
    amoand.d a0, a2, (a1)
    amoor.w.aq a0, a2, (a1)
    amomin.d a0, a2, (a1)
    amomax.w a0, a2, (a1)
    amominu.d a0, a2, (a1)
    amomaxu.w.rl a0, a2, (a1)
    .align 2
far:
    nop
