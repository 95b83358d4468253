# ata-disk: a driver for the ATA PIO controller in legacy slot 0 (0x1000_9000, PLIC source 12), which
# the tests register on the board. IDENTIFY DEVICE, WRITE SECTORS of a pattern, FLUSH CACHE, READ SECTORS
# back and compare, then print the model, the disk's LBA28 size, a checksum of what was read and
# the interrupts taken; exit 0, or the number of the step that went wrong.
# ata_use_irq (in .data) says how the driver waits for the device: 0 polls Status with nIEN set;
# 1 (written into memory by a test before the run) sleeps in wfi until INTRQ arrives through the PLIC.
# QEMU virt has no such controller, so there is no ata-disk.expected: the program is not in the
# QEMU differential set.
    .equ ATA, 0x10009000             # DeviceSlots.Legacy(0)
    .equ ATA_IRQ, 12                 # DeviceSlots.LegacyInterrupt(0)
    .equ ATA_SECTORS, 4
    .equ ATA_FIRST_LBA, 0x01abcdef   # uses all 28 bits: bits 27:24 go in the Device register
    .equ PLIC_CLAIM, 0x0c200004      # hart 0, M context: claim/complete

main:
    addi sp, sp, -48
    sd ra, 40(sp)
    sd s0, 32(sp)
    sd s1, 24(sp)
    sd s2, 16(sp)
    sd s3, 8(sp)
    li s0, ATA
    li s1, 0                  # interrupts the driver has seen
    li s2, 0                  # checksum of the words read back
    la t0, ata_use_irq
    ld t0, 0(t0)
    beqz t0, 1f
    call irq_setup
    j 2f
1:  li t0, 2                  # Device Control: nIEN, the device keeps INTRQ low
    sb t0, 8(s0)
2:  li t0, 0xe0               # Device: LBA, device 0
    sb t0, 6(s0)

    # IDENTIFY DEVICE: one data block, announced by DRQ (and an interrupt)
    li t0, 0xec
    sb t0, 7(s0)
    call ata_wait
    andi t0, a0, 0x89         # BSY, DRQ, ERR
    li t1, 0x08
    li a0, 1
    bne t0, t1, __exit
    la a0, identify
    call ata_read_block
    la t0, identify
    lhu t1, 54(t0)            # word 27: the model's first two characters, 'V' in bits 15:8
    li t2, 0x5669
    li a0, 2
    bne t1, t2, __exit
    call print_model
    la t0, identify
    lwu a1, 120(t0)           # words 60-61: user-addressable sectors (LBA28)
    la a0, msg_sectors
    call show

    # WRITE SECTORS: the first block is asked for by DRQ alone, later ones with an interrupt each
    call ata_set_address
    li t0, 0x30
    sb t0, 7(s0)
    call ata_poll
    li s3, 0
3:  andi t0, a0, 0x89
    li t1, 0x08
    li a0, 3
    bne t0, t1, __exit
    mv a0, s3
    call ata_write_pattern
    call ata_wait             # after each sector: DRQ for the next, or done
    addi s3, s3, 1
    li t0, ATA_SECTORS
    blt s3, t0, 3b
    andi t0, a0, 0x89
    li a0, 3
    bnez t0, __exit

    # FLUSH CACHE: no data, one interrupt
    li t0, 0xe7
    sb t0, 7(s0)
    call ata_wait
    andi t0, a0, 0x89
    li a0, 4
    bnez t0, __exit

    # READ SECTORS: each block announced by DRQ and an interrupt; none after the last
    call ata_set_address
    li t0, 0x20
    sb t0, 7(s0)
    li s3, 0
4:  call ata_wait
    andi t0, a0, 0x89
    li t1, 0x08
    li a0, 5
    bne t0, t1, __exit
    mv a0, s3
    call ata_check_pattern
    li a0, 6
    bnez a1, __exit
    addi s3, s3, 1
    li t0, ATA_SECTORS
    blt s3, t0, 4b
    call ata_poll
    andi t0, a0, 0x89
    li a0, 7
    bnez t0, __exit

    la a0, msg_checksum
    mv a1, s2
    call show
    la a0, msg_interrupts
    mv a1, s1
    call show
    li a0, 0
    ld ra, 40(sp)
    ld s0, 32(sp)
    ld s1, 24(sp)
    ld s2, 16(sp)
    ld s3, 8(sp)
    addi sp, sp, 48
    ret

# irq_setup: the ATA's INTRQ through PLIC source 12 to hart 0's M context, taken by ata_irq
irq_setup:
    la t0, ata_irq
    csrw mtvec, t0
    li t0, 0x0c000000 + 4 * ATA_IRQ   # priority of source 12
    li t1, 1
    sw t1, 0(t0)
    li t0, 0x0c002000         # context 0 enables
    li t1, 1 << ATA_IRQ
    sw t1, 0(t0)
    sb zero, 8(s0)            # Device Control: nIEN clear
    li t0, 1 << 11
    csrs mie, t0              # MEIE
    csrsi mstatus, 8          # MIE
    ret

# ata_irq: claims, reads Status (which acknowledges INTRQ), completes, and records the Status it
# read and one more interrupt for ata_wait
ata_irq:
    addi sp, sp, -32
    sd t0, 0(sp)
    sd t1, 8(sp)
    sd t2, 16(sp)
    csrr t0, mcause
    bgez t0, __unexpected_trap
    slli t0, t0, 1
    li t1, 11 << 1
    bne t0, t1, __unexpected_trap
    li t0, PLIC_CLAIM
    lw t1, 0(t0)
    li t2, ATA
    lbu t2, 7(t2)
    sw t1, 0(t0)
    li t0, ATA_IRQ
    bne t1, t0, __unexpected_trap
    la t0, ata_irq_status
    sd t2, 0(t0)
    la t0, ata_irq_count
    ld t1, 0(t0)
    addi t1, t1, 1
    sd t1, 0(t0)
    ld t0, 0(sp)
    ld t1, 8(sp)
    ld t2, 16(sp)
    addi sp, sp, 32
    mret

# ata_wait: a0 = Status once the device has finished its step. Polling: read Status until BSY is
# clear. Interrupts: sleep until the handler has counted one more, checking the count with MIE off
# so that an interrupt cannot slip in between the check and the wfi (wfi still wakes on it).
ata_wait:
    la t0, ata_use_irq
    ld t0, 0(t0)
    bnez t0, 2f
1:  lbu a0, 7(s0)
    andi t0, a0, 0x80
    bnez t0, 1b
    ret
2:  csrci mstatus, 8
    la t0, ata_irq_count
    ld t0, 0(t0)
    bne t0, s1, 3f
    wfi
    csrsi mstatus, 8
    j 2b
3:  mv s1, t0
    csrsi mstatus, 8
    la t0, ata_irq_status
    ld a0, 0(t0)
    ret

# ata_poll: a0 = Alternate Status once BSY is clear; leaves any interrupt pending
ata_poll:
    lbu a0, 8(s0)
    andi t0, a0, 0x80
    bnez t0, ata_poll
    ret

# ata_set_address: Sector Count and the LBA28 address in LBA Low/Mid/High and Device
ata_set_address:
    li t0, ATA_SECTORS
    sb t0, 2(s0)
    li t0, ATA_FIRST_LBA
    sb t0, 3(s0)
    srli t1, t0, 8
    sb t1, 4(s0)
    srli t1, t0, 16
    sb t1, 5(s0)
    srli t1, t0, 24
    andi t1, t1, 0x0f
    ori t1, t1, 0xe0
    sb t1, 6(s0)
    ret

# ata_read_block(a0 = buffer): the 256 words of a DRQ data block
ata_read_block:
    li t1, 256
1:  lhu t0, 0(s0)
    sh t0, 0(a0)
    addi a0, a0, 2
    addi t1, t1, -1
    bnez t1, 1b
    ret

# pattern(a0 = sector index, t1 = word index) -> t2: ((sector << 8 | word) * 40503 + 0x5a5a) mod 2^16
pattern:
    slli t2, a0, 8
    or t2, t2, t1
    li t3, 40503
    mul t2, t2, t3
    li t3, 0x5a5a
    add t2, t2, t3
    slli t2, t2, 48
    srli t2, t2, 48
    ret

# ata_write_pattern(a0 = sector index): one data-out block of the pattern
ata_write_pattern:
    mv t4, ra
    li t1, 0
1:  call pattern
    sh t2, 0(s0)
    addi t1, t1, 1
    li t0, 256
    blt t1, t0, 1b
    mv ra, t4
    ret

# ata_check_pattern(a0 = sector index): reads one data-in block into the checksum (s2 = s2 * 31 + word);
# a1 = 0 when every word is the pattern's
ata_check_pattern:
    mv t4, ra
    li a1, 0
    li t1, 0
1:  lhu t0, 0(s0)
    li t5, 31
    mul s2, s2, t5
    add s2, s2, t0
    call pattern
    beq t0, t2, 2f
    li a1, 1
2:  addi t1, t1, 1
    li t0, 256
    blt t1, t0, 1b
    mv ra, t4
    ret

# print_model: "model " and the model number of the IDENTIFY data (words 27-46, an ATA string: the
# first character of each word in bits 15:8), without its trailing spaces
print_model:
    addi sp, sp, -16
    sd ra, 8(sp)
    la a0, msg_model
    call puts
    la a1, identify
    addi a1, a1, 54
    li a2, 40
1:  addi a2, a2, -1           # a2: the last character that is not a space
    bltz a2, 3f
    xori a3, a2, 1
    add a3, a3, a1
    lbu a3, 0(a3)
    li a4, 32
    beq a3, a4, 1b
    li a3, 0
2:  xori a4, a3, 1
    add a4, a4, a1
    lbu a0, 0(a4)
    call putc
    addi a3, a3, 1
    bge a2, a3, 2b
3:  li a0, 10
    call putc
    ld ra, 8(sp)
    addi sp, sp, 16
    ret

    .section .rodata
msg_model: .asciz "model "
msg_sectors: .asciz "sectors"
msg_checksum: .asciz "checksum"
msg_interrupts: .asciz "interrupts"

    .data
    .align 3
ata_use_irq: .dword 0
ata_irq_count: .dword 0
ata_irq_status: .dword 0

    .bss
    .align 4
identify: .zero 512
