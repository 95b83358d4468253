# demo-devices: finds the disks on the board (virtio-blk in the virtio-mmio slots, ATA in the legacy slots), checksums, rewrites and reads back the first DEMO_SECTORS sectors of each; exits 0.
#
# Hart 0 alone, in M-mode, bare, with interrupts off (the others wait in wfi for ever).
# 1. "demo-devices" on the UART (16550 at 0x1000_0000, polling LSR.THRE).
# 2. mtvec catches the probes: a load access fault (mcause 5) at one of the two probe loads means
#    "nothing in this slot": probe_fault is set and the load skipped. Any other trap prints
#    "trap <mcause in hex>" and powers off with failure code 1.
# 3. Virtio-mmio slots 0-7 (0x1000_1000 + n * 0x1000): magic "virt", version 2 and DeviceID 2 make a
#    block device, "virtio-blk<n>". An empty slot answers DeviceID 0 (QEMU) or faults (a board that
#    maps nothing there); both mean absent. Initialised as virtio 1.2 §3.1.1 asks, accepting only
#    VIRTIO_F_VERSION_1, with one split virtqueue in RAM. Requests are 8 sectors (4 KiB) each, up to
#    8 of them per QueueNotify write; the driver polls the used ring (avail.flags asks for no
#    interrupts, so there is nothing to acknowledge).
# 4. Legacy slots 0-3 (0x1000_9000 + n * 0x1000): a 1-byte load of the ATA Status register (offset
#    7: the controller takes byte accesses only there, 16-bit ones only at Data). No fault, DRDY set
#    and BSY clear make an ATA disk, "ata<n>" (a 16550 there answers 0 from its scratch register).
#    PIO with nIEN set, polling Status: READ SECTORS / WRITE SECTORS of 8 sectors each (LBA28, the
#    16-bit Data register), FLUSH CACHE after the writes.
# 5. For each disk in slot order, over sectors 0 to DEMO_SECTORS - 1: read and FNV-1a (32-bit) them
#    ("before"); g = byte 0 of sector 0 + 1 (mod 256); write sector s byte i = (g + 31s + 7i) mod 256
#    and flush; read back and FNV-1a ("after"); print "<name>: gen <g> before <hex> after <hex>".
#    A device error (a virtio status other than 0, ATA's ERR) prints "<name>: error" instead.
# 6. "done <disks>", then power off with success.
# The checksum depends on the contents alone, so the same disk gives the same line on either device.
    .equ DEMO_SECTORS, 64            # sectors tested per disk: a multiple of 8; nothing else depends on its size
    .equ UART, 0x10000000
    .equ UART_LSR, 5
    .equ LSR_THRE, 0x20
    .equ FINISHER, 0x100000
    .equ FINISH_PASS, 0x5555
    .equ FINISH_FAIL, (1 << 16) | 0x3333
    .equ CAUSE_LOAD_ACCESS, 5
    .equ VIRTIO_BASE, 0x10001000     # DeviceSlots.Virtio(0)
    .equ VIRTIO_SLOTS, 8
    .equ LEGACY_BASE, 0x10009000     # DeviceSlots.Legacy(0)
    .equ LEGACY_SLOTS, 4
    .equ SLOT_SHIFT, 12              # slots are 0x1000 apart
    .equ SECTOR, 512
    .equ CHUNK, 8                    # sectors per virtio request and per ATA command
    .equ CHUNK_BYTES, CHUNK * SECTOR
    .equ BATCH, 8                    # virtio requests per notification
    .equ SPAN, CHUNK * BATCH         # sectors per pass through the buffer
    .equ FNV_BASIS, 0x811c9dc5
    .equ FNV_PRIME, 0x01000193
    # virtio-mmio registers (virtio 1.2 §4.2.2)
    .equ VIO_MAGIC, 0x000
    .equ VIO_VERSION, 0x004
    .equ VIO_DEVICE_ID, 0x008
    .equ VIO_DEVICE_FEATURES, 0x010
    .equ VIO_DEVICE_FEATURES_SEL, 0x014
    .equ VIO_DRIVER_FEATURES, 0x020
    .equ VIO_DRIVER_FEATURES_SEL, 0x024
    .equ VIO_QUEUE_SEL, 0x030
    .equ VIO_QUEUE_NUM_MAX, 0x034
    .equ VIO_QUEUE_NUM, 0x038
    .equ VIO_QUEUE_READY, 0x044
    .equ VIO_QUEUE_NOTIFY, 0x050
    .equ VIO_STATUS, 0x070
    .equ VIO_QUEUE_DESC, 0x080       # low 32 bits, the high ones 4 bytes on
    .equ VIO_QUEUE_DESC_HIGH, 0x084
    .equ VIO_QUEUE_DRIVER, 0x090
    .equ VIO_QUEUE_DRIVER_HIGH, 0x094
    .equ VIO_QUEUE_DEVICE, 0x0a0
    .equ VIO_QUEUE_DEVICE_HIGH, 0x0a4
    .equ VIRTIO_MAGIC, 0x74726976    # "virt"
    .equ VIRTIO_BLOCK, 2             # DeviceID of a block device (§5.2.1)
    .equ S_ACKNOWLEDGE, 1            # device status bits (§2.1)
    .equ S_DRIVER, 2
    .equ S_DRIVER_OK, 4
    .equ S_FEATURES_OK, 8
    .equ S_NEEDS_RESET, 64
    .equ S_FAILED, 128
    .equ QUEUE_SIZE, 32              # a power of 2 with room for BATCH requests of 3 descriptors
    .equ AVAIL_NO_INTERRUPT, 1       # §2.7.7
    .equ F_NEXT, 1                   # descriptor flags (§2.7.5)
    .equ F_WRITE, 2
    .equ T_IN, 0                     # request types (§5.2.6)
    .equ T_OUT, 1
    .equ T_FLUSH, 4
    # ATA registers (AtaController: byte offsets in the legacy port order) and bits (ATA/ATAPI-6 clause 7)
    .equ ATA_DATA, 0                 # 16-bit accesses only
    .equ ATA_COUNT, 2
    .equ ATA_LBA_LOW, 3
    .equ ATA_LBA_MID, 4
    .equ ATA_LBA_HIGH, 5
    .equ ATA_DEVICE, 6
    .equ ATA_STATUS, 7               # read Status, write Command
    .equ ATA_CONTROL, 8              # read Alternate Status, write Device Control
    .equ ST_BSY, 0x80
    .equ ST_DRDY, 0x40
    .equ ST_DRQ, 0x08
    .equ ST_ERR, 0x01
    .equ DEVICE_LBA, 0xe0            # LBA, device 0 (bits 7 and 5 set, as drivers write them)
    .equ CONTROL_NIEN, 2
    .equ CMD_READ, 0x20
    .equ CMD_WRITE, 0x30
    .equ CMD_FLUSH, 0xe7

    .text
    .globl _start
_start:
    csrr t0, mhartid
    bnez t0, park
    la sp, stack_top
    la t0, trap
    csrw mtvec, t0
    csrw mie, zero
    la a0, s_banner
    call puts
    li s0, 0                         # disks found
    li s1, 0                         # slot
1:  li a0, VIRTIO_BASE
    slli t0, s1, SLOT_SHIFT
    add a0, a0, t0
    call virtio_probe
    beqz a0, 2f
    mv a0, s1
    call virtio_disk
    addi s0, s0, 1
2:  addi s1, s1, 1
    li t0, VIRTIO_SLOTS
    blt s1, t0, 1b
    li s1, 0
3:  li a0, LEGACY_BASE
    slli t0, s1, SLOT_SHIFT
    add a0, a0, t0
    call ata_probe
    beqz a0, 4f
    mv a0, s1
    call ata_disk
    addi s0, s0, 1
4:  addi s1, s1, 1
    li t0, LEGACY_SLOTS
    blt s1, t0, 3b
    la a0, s_done
    call puts
    mv a0, s0
    call put_dec
    li a0, 10
    call putc
    li t0, FINISHER
    li t1, FINISH_PASS
    sw t1, 0(t0)
park:
    wfi
    j park

# ---- traps and probes ------------------------------------------------------------------------------

# trap: a load access fault at probe_load32 or probe_load8 sets probe_fault and resumes after the load
# (its length read from the instruction: 4 bytes when the low two bits are 11, else 2); anything else
# is fatal, including an access fault anywhere but a probe, which would be a driver bug.
trap:
    addi sp, sp, -16
    sd t0, 0(sp)
    sd t1, 8(sp)
    csrr t0, mcause
    li t1, CAUSE_LOAD_ACCESS
    bne t0, t1, fatal
    csrr t0, mepc
    la t1, probe_load32
    beq t0, t1, 1f
    la t1, probe_load8
    bne t0, t1, fatal
1:  lhu t1, 0(t0)
    andi t1, t1, 3
    addi t1, t1, -3
    seqz t1, t1
    slli t1, t1, 1
    addi t1, t1, 2
    add t0, t0, t1
    csrw mepc, t0
    la t0, probe_fault
    li t1, 1
    sd t1, 0(t0)
    ld t0, 0(sp)
    ld t1, 8(sp)
    addi sp, sp, 16
    mret
fatal:
    la a0, s_trap
    call puts
    csrr a0, mcause
    li a1, 1
    call put_hex
    li a0, 10
    call putc
    li t0, FINISHER
    li t1, FINISH_FAIL
    sw t1, 0(t0)
    j park

# probe32(a0 = address) -> a0 = the 32-bit word there, a1 = 1 when nothing answered (the load faulted)
probe32:
    la t0, probe_fault
    sd zero, 0(t0)
probe_load32:
    lwu a0, 0(a0)
    ld a1, 0(t0)
    ret

# probe8(a0 = address) -> a0 = the byte there, a1 = 1 when nothing answered
probe8:
    la t0, probe_fault
    sd zero, 0(t0)
probe_load8:
    lbu a0, 0(a0)
    ld a1, 0(t0)
    ret

# ---- the test every disk gets ----------------------------------------------------------------------

# disk_test(a0 = device base, a1 = name prefix, a2 = slot, a3 = transfer, a4 = flush): steps a to e.
# transfer(a0 = base, a1 = 1 to write, a2 = first sector, a3 = sectors, a multiple of CHUNK up to
# SPAN) moves them between the disk and buf; flush(a0 = base). Both return a0 = 0, or 1 on a device error.
disk_test:
    addi sp, sp, -80
    sd ra, 72(sp)
    sd s0, 64(sp)
    sd s1, 56(sp)
    sd s2, 48(sp)
    sd s3, 40(sp)
    sd s4, 32(sp)
    sd s5, 24(sp)
    sd s6, 16(sp)
    sd s7, 8(sp)
    sd s8, 0(sp)
    mv s0, a0
    mv s1, a1
    mv s2, a2
    mv s3, a3
    mv s4, a4
    mv a0, s0                        # a. before
    mv a1, s3
    call checksum
    bnez a1, 9f
    mv s6, a0
    addi s7, a2, 1                   # b. the generation
    andi s7, s7, 0xff
    li s5, 0                         # c. the pattern, a pass at a time, then a flush
1:  mv a0, s5
    call span
    beqz a0, 2f
    mv s8, a0
    la a0, buf
    mv a1, s5
    mv a2, s8
    mv a3, s7
    call fill
    mv a0, s0
    li a1, 1
    mv a2, s5
    mv a3, s8
    jalr s3
    bnez a0, 9f
    add s5, s5, s8
    j 1b
2:  mv a0, s0
    jalr s4
    bnez a0, 9f
    mv a0, s0                        # d. after
    mv a1, s3
    call checksum
    bnez a1, 9f
    mv s5, a0
    mv a0, s1                        # e. "<name>: gen <g> before <hex> after <hex>"
    mv a1, s2
    call put_name
    la a0, s_gen
    call puts
    mv a0, s7
    call put_dec
    la a0, s_before
    call puts
    mv a0, s6
    li a1, 8
    call put_hex
    la a0, s_after
    call puts
    mv a0, s5
    li a1, 8
    call put_hex
    li a0, 10
    call putc
    j 10f
9:  mv a0, s1                        # "<name>: error"
    mv a1, s2
    call put_name
    la a0, s_error
    call puts
10: ld ra, 72(sp)
    ld s0, 64(sp)
    ld s1, 56(sp)
    ld s2, 48(sp)
    ld s3, 40(sp)
    ld s4, 32(sp)
    ld s5, 24(sp)
    ld s6, 16(sp)
    ld s7, 8(sp)
    ld s8, 0(sp)
    addi sp, sp, 80
    ret

# span(a0 = first sector) -> a0: the sectors of the pass from there, SPAN or what is left of
# DEMO_SECTORS (0 at the end)
span:
    li t0, DEMO_SECTORS
    sub a0, t0, a0
    li t0, SPAN
    bleu a0, t0, 1f
    mv a0, t0
1:  ret

# checksum(a0 = device base, a1 = transfer) -> a0 = FNV-1a of sectors 0 to DEMO_SECTORS - 1,
# a1 = 1 on a device error, a2 = byte 0 of sector 0
checksum:
    addi sp, sp, -64
    sd ra, 56(sp)
    sd s0, 48(sp)
    sd s1, 40(sp)
    sd s2, 32(sp)
    sd s3, 24(sp)
    sd s4, 16(sp)
    sd s5, 8(sp)
    mv s0, a0
    mv s1, a1
    li s2, 0                         # the pass's first sector
    li s3, FNV_BASIS
    li s4, 0
1:  mv a0, s2
    call span
    beqz a0, 3f
    mv s5, a0
    mv a0, s0
    li a1, 0
    mv a2, s2
    mv a3, s5
    jalr s1
    bnez a0, 4f
    bnez s2, 2f
    la t0, buf                       # the first pass: sector 0 begins the buffer
    lbu s4, 0(t0)
2:  la a0, buf
    slli a1, s5, 9
    mv a2, s3
    call fnv
    mv s3, a0
    add s2, s2, s5
    j 1b
3:  mv a0, s3
    li a1, 0
    mv a2, s4
    j 5f
4:  li a1, 1
5:  ld ra, 56(sp)
    ld s0, 48(sp)
    ld s1, 40(sp)
    ld s2, 32(sp)
    ld s3, 24(sp)
    ld s4, 16(sp)
    ld s5, 8(sp)
    addi sp, sp, 64
    ret

# fnv(a0 = address, a1 = length, a2 = hash so far) -> a0: the 32-bit FNV-1a hash carried over the bytes
# (kept in the low 32 bits; mulw discards the rest)
fnv:
    li t1, FNV_PRIME
    add t2, a0, a1
    mv t0, a0
    mv a0, a2
1:  beq t0, t2, 2f
    lbu t3, 0(t0)
    xor a0, a0, t3
    mulw a0, a0, t1
    addi t0, t0, 1
    j 1b
2:  ret

# fill(a0 = buffer, a1 = first sector, a2 = sectors, a3 = g): sector s, byte i = (g + 31s + 7i) mod 256.
# Byte 0 of sector 0 is g itself, as the generation is read back from there.
fill:
    add a2, a1, a2
1:  beq a1, a2, 3f
    li t0, 31
    mul t0, a1, t0
    add t0, t0, a3
    li t1, SECTOR
2:  sb t0, 0(a0)
    addi t0, t0, 7
    addi a0, a0, 1
    addi t1, t1, -1
    bnez t1, 2b
    addi a1, a1, 1
    j 1b
3:  ret

# ---- virtio-blk ------------------------------------------------------------------------------------

# virtio_probe(a0 = slot base) -> a0 = 1 for a version-2 virtio-mmio block device
virtio_probe:
    addi sp, sp, -16
    sd ra, 8(sp)
    sd s0, 0(sp)
    mv s0, a0
    call probe32
    bnez a1, 1f
    li t0, VIRTIO_MAGIC
    bne a0, t0, 1f
    lw t0, VIO_VERSION(s0)
    li t1, 2
    bne t0, t1, 1f
    lw t0, VIO_DEVICE_ID(s0)
    li t1, VIRTIO_BLOCK
    bne t0, t1, 1f
    li a0, 1
    j 2f
1:  li a0, 0
2:  ld ra, 8(sp)
    ld s0, 0(sp)
    addi sp, sp, 16
    ret

# virtio_disk(a0 = slot): initialises the device, tests it, resets it
virtio_disk:
    addi sp, sp, -32
    sd ra, 24(sp)
    sd s0, 16(sp)
    sd s1, 8(sp)
    mv s1, a0
    li s0, VIRTIO_BASE
    slli t0, a0, SLOT_SHIFT
    add s0, s0, t0
    mv a0, s0
    call virtio_init
    beqz a0, 1f
    la a0, s_virtio
    mv a1, s1
    call put_name
    la a0, s_error
    call puts
    j 2f
1:  mv a0, s0
    la a1, s_virtio
    mv a2, s1
    la a3, virtio_transfer
    la a4, virtio_flush
    call disk_test
2:  sw zero, VIO_STATUS(s0)          # reset: the queue lets go of this program's rings
    ld ra, 24(sp)
    ld s0, 16(sp)
    ld s1, 8(sp)
    addi sp, sp, 32
    ret

# virtio_init(a0 = base) -> a0 = 0 when the device is live with queue 0 set up, 1 (with FAILED set) when not.
# virtio 1.2 §3.1.1 and §4.2.3.2.
virtio_init:
    sw zero, VIO_STATUS(a0)          # reset, complete once Status reads 0 (§2.4)
1:  lw t0, VIO_STATUS(a0)
    bnez t0, 1b
    li t0, S_ACKNOWLEDGE
    sw t0, VIO_STATUS(a0)
    li t0, S_ACKNOWLEDGE | S_DRIVER
    sw t0, VIO_STATUS(a0)
    li t0, 1                         # device features 32-63: VIRTIO_F_VERSION_1 is bit 32
    sw t0, VIO_DEVICE_FEATURES_SEL(a0)
    lw t1, VIO_DEVICE_FEATURES(a0)
    andi t1, t1, 1
    beqz t1, 9f
    sw zero, VIO_DEVICE_FEATURES_SEL(a0)   # features 0-31: VIRTIO_BLK_F_FLUSH is bit 9
    lw t2, VIO_DEVICE_FEATURES(a0)
    andi t2, t2, 0x200               # the flush request is ours to send only if negotiated (virtio 1.2 §5.2.6.2)
    sw zero, VIO_DRIVER_FEATURES_SEL(a0)   # accept VIRTIO_F_VERSION_1, and VIRTIO_BLK_F_FLUSH when offered
    sw t2, VIO_DRIVER_FEATURES(a0)
    la t3, flush_negotiated
    sd t2, 0(t3)
    sw t0, VIO_DRIVER_FEATURES_SEL(a0)
    sw t0, VIO_DRIVER_FEATURES(a0)
    li t0, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK
    sw t0, VIO_STATUS(a0)
    lw t0, VIO_STATUS(a0)            # still set: the device accepted the features
    andi t0, t0, S_FEATURES_OK
    beqz t0, 9f
    sw zero, VIO_QUEUE_SEL(a0)
    lw t0, VIO_QUEUE_READY(a0)       # not in use yet
    bnez t0, 9f
    lwu t0, VIO_QUEUE_NUM_MAX(a0)
    li t1, QUEUE_SIZE
    bltu t0, t1, 9f
    sw t1, VIO_QUEUE_NUM(a0)
    la t0, vq_desc                   # fresh rings: the descriptor table, avail, used, all zero
    la t1, vq_end
2:  sd zero, 0(t0)
    addi t0, t0, 8
    bltu t0, t1, 2b
    la t0, vq_avail
    li t1, AVAIL_NO_INTERRUPT        # polled: no used buffer notifications wanted
    sh t1, 0(t0)
    la t1, avail_next
    sd zero, 0(t1)
    la t1, used_seen
    sd zero, 0(t1)
    la t0, vq_desc
    sw t0, VIO_QUEUE_DESC(a0)
    srli t0, t0, 32
    sw t0, VIO_QUEUE_DESC_HIGH(a0)
    la t0, vq_avail
    sw t0, VIO_QUEUE_DRIVER(a0)
    srli t0, t0, 32
    sw t0, VIO_QUEUE_DRIVER_HIGH(a0)
    la t0, vq_used
    sw t0, VIO_QUEUE_DEVICE(a0)
    srli t0, t0, 32
    sw t0, VIO_QUEUE_DEVICE_HIGH(a0)
    li t0, 1
    sw t0, VIO_QUEUE_READY(a0)
    li t0, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK
    sw t0, VIO_STATUS(a0)
    li a0, 0
    ret
9:  lw t0, VIO_STATUS(a0)            # §3.1.1: give up with FAILED
    ori t0, t0, S_FAILED
    sw t0, VIO_STATUS(a0)
    li a0, 1
    ret

# virtio_request(a0 = index j, a1 = type, a2 = sector, a3 = data bytes, 0 for none): request j in
# descriptors 3j (header), 3j + 1 (data in buf at j * CHUNK_BYTES) and 3j + 2 (status), offered
# in the available ring but not yet published
virtio_request:
    la t0, hdrs                      # struct virtio_blk_req's header: type, reserved, sector (§5.2.6)
    slli t1, a0, 4
    add t0, t0, t1
    sw a1, 0(t0)
    sw zero, 4(t0)
    sd a2, 8(t0)
    la t2, statuses                  # 0xff until the device writes it
    add t2, t2, a0
    li t1, 0xff
    sb t1, 0(t2)
    li t1, 48                        # t3: descriptor 3j
    mul t1, a0, t1
    la t3, vq_desc
    add t3, t3, t1
    sd t0, 0(t3)                     # header, read by the device
    li t1, 16
    sw t1, 8(t3)
    slli t1, a0, 1                   # next: 3j + 1, or 3j + 2 without data
    add t1, t1, a0
    addi t1, t1, 1
    bnez a3, 1f
    addi t1, t1, 1
1:  slli t1, t1, 16
    ori t1, t1, F_NEXT
    sw t1, 12(t3)
    beqz a3, 3f
    la t0, buf                       # data: written by the device for T_IN, read by it otherwise
    li t1, CHUNK_BYTES
    mul t1, a0, t1
    add t0, t0, t1
    sd t0, 16(t3)
    sw a3, 24(t3)
    slli t1, a0, 1
    add t1, t1, a0
    addi t1, t1, 2
    slli t1, t1, 16
    ori t1, t1, F_NEXT
    bnez a1, 2f
    ori t1, t1, F_WRITE
2:  sw t1, 28(t3)
3:  sd t2, 32(t3)                    # status, written by the device
    li t1, 1
    sw t1, 40(t3)
    li t1, F_WRITE
    sw t1, 44(t3)
    la t0, avail_next                # the head into the next free slot of avail.ring (§2.7.13.2)
    ld t1, 0(t0)
    andi t2, t1, QUEUE_SIZE - 1
    slli t2, t2, 1
    la t3, vq_avail
    add t3, t3, t2
    slli t2, a0, 1
    add t2, t2, a0
    sh t2, 4(t3)
    addi t1, t1, 1
    sd t1, 0(t0)
    ret

# virtio_submit(a0 = base, a1 = requests offered) -> a0 = 0 when all completed with VIRTIO_BLK_S_OK:
# publishes avail.idx, notifies once, polls used.idx (and Status, so that a device that gave up with
# DEVICE_NEEDS_RESET is an error rather than a hang)
virtio_submit:
    la t0, avail_next
    ld t1, 0(t0)
    la t0, vq_avail
    fence                            # ring entries before idx (§2.7.13.3)
    sh t1, 2(t0)
    fence                            # idx before the notification (§2.7.13.4)
    sw zero, VIO_QUEUE_NOTIFY(a0)
    la t0, used_seen
    ld t2, 0(t0)
    add t2, t2, a1                   # the used.idx that says all are done
    sd t2, 0(t0)
    slli t2, t2, 48
    srli t2, t2, 48
    la t0, vq_used
1:  lhu t1, 2(t0)
    beq t1, t2, 2f
    lw t3, VIO_STATUS(a0)
    andi t3, t3, S_NEEDS_RESET
    beqz t3, 1b
    li a0, 1
    ret
2:  fence                            # idx before the statuses it covers
    la t0, statuses
    add t1, t0, a1
    li a0, 0
3:  lbu t2, 0(t0)
    or a0, a0, t2
    addi t0, t0, 1
    bne t0, t1, 3b
    snez a0, a0
    ret

# virtio_transfer(a0 = base, a1 = 1 to write, a2 = first sector, a3 = sectors): one request per
# CHUNK sectors, all in one batch (sectors <= SPAN)
virtio_transfer:
    addi sp, sp, -48
    sd ra, 40(sp)
    sd s0, 32(sp)
    sd s1, 24(sp)
    sd s2, 16(sp)
    sd s3, 8(sp)
    sd s4, 0(sp)
    mv s0, a0
    mv s1, a1                        # request type: T_OUT = 1 to write, T_IN = 0 to read
    mv s2, a2
    srli s3, a3, 3                   # requests
    li s4, 0
1:  mv a0, s4
    mv a1, s1
    slli t0, s4, 3
    add a2, s2, t0
    li a3, CHUNK_BYTES
    call virtio_request
    addi s4, s4, 1
    bne s4, s3, 1b
    mv a0, s0
    mv a1, s3
    call virtio_submit
    ld ra, 40(sp)
    ld s0, 32(sp)
    ld s1, 24(sp)
    ld s2, 16(sp)
    ld s3, 8(sp)
    ld s4, 0(sp)
    addi sp, sp, 48
    ret

# virtio_flush(a0 = base): one VIRTIO_BLK_T_FLUSH request, when VIRTIO_BLK_F_FLUSH was negotiated
virtio_flush:
    la t0, flush_negotiated
    ld t0, 0(t0)
    bnez t0, 1f
    li a0, 0                         # a device without a write cache: writes are already durable
    ret
1:  addi sp, sp, -16
    sd ra, 8(sp)
    sd s0, 0(sp)
    mv s0, a0
    li a0, 0
    li a1, T_FLUSH
    li a2, 0
    li a3, 0
    call virtio_request
    mv a0, s0
    li a1, 1
    call virtio_submit
    ld ra, 8(sp)
    ld s0, 0(sp)
    addi sp, sp, 16
    ret

# ---- ATA -------------------------------------------------------------------------------------------

# ata_probe(a0 = slot base) -> a0 = 1 when Status answers a byte load with DRDY set and BSY clear
ata_probe:
    addi sp, sp, -16
    sd ra, 8(sp)
    addi a0, a0, ATA_STATUS
    call probe8
    bnez a1, 1f
    andi a0, a0, ST_BSY | ST_DRDY
    addi a0, a0, -ST_DRDY
    seqz a0, a0
    j 2f
1:  li a0, 0
2:  ld ra, 8(sp)
    addi sp, sp, 16
    ret

# ata_disk(a0 = slot): nIEN (this driver polls), device 0 in LBA mode, then the test
ata_disk:
    addi sp, sp, -16
    sd ra, 8(sp)
    mv a2, a0
    li a0, LEGACY_BASE
    slli t0, a2, SLOT_SHIFT
    add a0, a0, t0
    li t0, CONTROL_NIEN
    sb t0, ATA_CONTROL(a0)
    li t0, DEVICE_LBA
    sb t0, ATA_DEVICE(a0)
    la a1, s_ata
    la a3, ata_transfer
    la a4, ata_flush
    call disk_test
    ld ra, 8(sp)
    addi sp, sp, 16
    ret

# ata_transfer(a0 = base, a1 = 1 to write, a2 = first sector, a3 = sectors): one command per CHUNK sectors
ata_transfer:
    addi sp, sp, -48
    sd ra, 40(sp)
    sd s0, 32(sp)
    sd s1, 24(sp)
    sd s2, 16(sp)
    sd s3, 8(sp)
    sd s4, 0(sp)
    mv s0, a0
    li s1, CMD_READ
    beqz a1, 1f
    li s1, CMD_WRITE
1:  mv s2, a2                        # LBA
    mv s3, a3                        # sectors left
    la s4, buf
2:  mv a0, s0
    mv a1, s2
    mv a2, s4
    mv a3, s1
    call ata_command
    bnez a0, 3f
    addi s2, s2, CHUNK
    li t0, CHUNK_BYTES
    add s4, s4, t0
    addi s3, s3, -CHUNK
    bnez s3, 2b
3:  ld ra, 40(sp)
    ld s0, 32(sp)
    ld s1, 24(sp)
    ld s2, 16(sp)
    ld s3, 8(sp)
    ld s4, 0(sp)
    addi sp, sp, 48
    ret

# ata_command(a0 = base, a1 = LBA, a2 = buffer, a3 = CMD_READ or CMD_WRITE) -> a0 = 0, or 1 on ERR:
# CHUNK sectors by PIO (ATA/ATAPI-6 clause 9: a DRQ data block per sector, 256 words through Data)
ata_command:
1:  lbu t0, ATA_STATUS(a0)           # BSY clear before the command block is written
    andi t0, t0, ST_BSY
    bnez t0, 1b
    li t0, CHUNK
    sb t0, ATA_COUNT(a0)
    sb a1, ATA_LBA_LOW(a0)
    srli t0, a1, 8
    sb t0, ATA_LBA_MID(a0)
    srli t0, a1, 16
    sb t0, ATA_LBA_HIGH(a0)
    srli t0, a1, 24                  # LBA bits 27:24 in the Device register
    andi t0, t0, 0x0f
    ori t0, t0, DEVICE_LBA
    sb t0, ATA_DEVICE(a0)
    sb a3, ATA_STATUS(a0)
    lbu t0, ATA_CONTROL(a0)          # one Alternate Status read: the pause before Status is valid
    li t2, CHUNK                     # data blocks to go
2:  lbu t0, ATA_STATUS(a0)
    andi t1, t0, ST_BSY
    bnez t1, 2b
    andi t1, t0, ST_ERR
    bnez t1, 9f
    andi t1, t0, ST_DRQ
    beqz t1, 9f
    li t3, SECTOR / 2
    li t1, CMD_WRITE
    beq a3, t1, 4f
3:  lhu t0, ATA_DATA(a0)
    sh t0, 0(a2)
    addi a2, a2, 2
    addi t3, t3, -1
    bnez t3, 3b
    j 5f
4:  lhu t0, 0(a2)
    sh t0, ATA_DATA(a0)
    addi a2, a2, 2
    addi t3, t3, -1
    bnez t3, 4b
5:  addi t2, t2, -1
    bnez t2, 2b
6:  lbu t0, ATA_STATUS(a0)           # the end of the command: BSY, DRQ and ERR clear
    andi t1, t0, ST_BSY
    bnez t1, 6b
    andi t1, t0, ST_ERR | ST_DRQ
    bnez t1, 9f
    li a0, 0
    ret
9:  li a0, 1
    ret

# ata_flush(a0 = base) -> a0 = 0, or 1 on ERR: FLUSH CACHE
ata_flush:
1:  lbu t0, ATA_STATUS(a0)
    andi t0, t0, ST_BSY
    bnez t0, 1b
    li t0, CMD_FLUSH
    sb t0, ATA_STATUS(a0)
    lbu t0, ATA_CONTROL(a0)
2:  lbu t0, ATA_STATUS(a0)
    andi t1, t0, ST_BSY
    bnez t1, 2b
    andi a0, t0, ST_ERR
    ret

# ---- console ---------------------------------------------------------------------------------------

# putc(a0 = character), once the transmitter holding register is empty
putc:
    li t0, UART
1:  lbu t1, UART_LSR(t0)
    andi t1, t1, LSR_THRE
    beqz t1, 1b
    sb a0, 0(t0)
    ret

# puts(a0 = string)
puts:
    li t0, UART
1:  lbu t1, 0(a0)
    beqz t1, 3f
2:  lbu t2, UART_LSR(t0)
    andi t2, t2, LSR_THRE
    beqz t2, 2b
    sb t1, 0(t0)
    addi a0, a0, 1
    j 1b
3:  ret

# put_name(a0 = prefix, a1 = slot): "virtio-blk3", "ata0"
put_name:
    addi sp, sp, -16
    sd ra, 8(sp)
    sd a1, 0(sp)
    call puts
    ld a0, 0(sp)
    addi a0, a0, 48
    call putc
    ld ra, 8(sp)
    addi sp, sp, 16
    ret

# put_dec(a0): unsigned decimal
put_dec:
    addi sp, sp, -32
    sd ra, 24(sp)
    addi t0, sp, 23                  # digits backwards from here, NUL-terminated
    sb zero, 0(t0)
    li t1, 10
1:  remu t2, a0, t1
    divu a0, a0, t1
    addi t2, t2, 48
    addi t0, t0, -1
    sb t2, 0(t0)
    bnez a0, 1b
    mv a0, t0
    call puts
    ld ra, 24(sp)
    addi sp, sp, 32
    ret

# put_hex(a0, a1 = digits at least, up to 16): lowercase hexadecimal; a1 = 8 prints the low 32 bits
put_hex:
    addi sp, sp, -32
    sd ra, 24(sp)
    li t0, 8
    bne a1, t0, 1f
    slli a0, a0, 32
    srli a0, a0, 32
1:  addi t0, sp, 23
    sb zero, 0(t0)
    li t3, 0
2:  andi t2, a0, 15
    li t1, 10
    blt t2, t1, 3f
    addi t2, t2, 39                  # 'a' - '0' - 10
3:  addi t2, t2, 48
    addi t0, t0, -1
    sb t2, 0(t0)
    srli a0, a0, 4
    addi t3, t3, 1
    blt t3, a1, 2b
    bnez a0, 2b
    mv a0, t0
    call puts
    ld ra, 24(sp)
    addi sp, sp, 32
    ret

    .section .rodata
s_banner: .asciz "demo-devices\n"
s_virtio: .asciz "virtio-blk"
s_ata: .asciz "ata"
s_gen: .asciz ": gen "
s_before: .asciz " before "
s_after: .asciz " after "
s_error: .asciz ": error\n"
s_done: .asciz "done "
s_trap: .asciz "trap "

    .data
    .align 3
probe_fault: .dword 0
avail_next: .dword 0                 # avail.idx as the driver counts it, published by virtio_submit
used_seen: .dword 0                  # used.idx once the last batch is done
flush_negotiated: .dword 0           # the device offered VIRTIO_BLK_F_FLUSH and the driver took it

    .bss
    .align 12
buf: .zero SPAN * SECTOR             # one pass: BATCH virtio requests or BATCH ATA commands
vq_desc: .zero 16 * QUEUE_SIZE       # the split virtqueue (§2.7): descriptors, avail, used
vq_avail: .zero 6 + 2 * QUEUE_SIZE
    .align 3
vq_used: .zero 6 + 8 * QUEUE_SIZE
    .align 3
vq_end:
hdrs: .zero 16 * BATCH
statuses: .zero BATCH
    .align 4
stack: .zero 4096
stack_top:
