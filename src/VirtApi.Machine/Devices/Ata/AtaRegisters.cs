namespace VirtApi.Machine.Devices.Ata;

/// <summary>
/// Byte offsets of <see cref="AtaController"/>'s registers from its base. The command block
/// registers keep the order of the legacy I/O ports (0x1F0 to 0x1F7); the control block register,
/// at 0x3F6 on a PC, follows them at 8. Where one offset holds two registers, reading reaches the
/// first and writing the second (ATA/ATAPI-6 clause 7).
/// </summary>
public static class AtaRegister
{
    /// <summary>Data register: 16-bit accesses only, one word of the current DRQ data block each.</summary>
    public const ulong Data = 0;

    /// <summary>Error register (read) / Features register (write).</summary>
    public const ulong ErrorFeatures = 1;

    public const ulong SectorCount = 2;

    /// <summary>LBA bits 7:0.</summary>
    public const ulong LbaLow = 3;

    /// <summary>LBA bits 15:8.</summary>
    public const ulong LbaMid = 4;

    /// <summary>LBA bits 23:16.</summary>
    public const ulong LbaHigh = 5;

    /// <summary>Device register: bit 6 LBA, bit 4 DEV (the drive selected), bits 3:0 LBA bits 27:24.</summary>
    public const ulong Device = 6;

    /// <summary>Status register (read; clears a pending interrupt) / Command register (write).</summary>
    public const ulong StatusCommand = 7;

    /// <summary>Alternate Status register (read; leaves the interrupt pending) / Device Control register (write).</summary>
    public const ulong AlternateStatusDeviceControl = 8;
}

/// <summary>Bits of the Status and Alternate Status registers (ATA/ATAPI-6 clause 7, Status register).</summary>
public static class AtaStatus
{
    /// <summary>Busy: the device owns the command block registers (here only while SRST holds it in reset).</summary>
    public const byte Bsy = 0x80;

    /// <summary>Device ready: the device accepts commands.</summary>
    public const byte Drdy = 0x40;

    /// <summary>Device fault. This device never faults, so it is never set.</summary>
    public const byte Df = 0x20;

    /// <summary>Data request: the device is ready to transfer a word through the Data register.</summary>
    public const byte Drq = 0x08;

    /// <summary>Error: the last command ended with an error, described in the Error register.</summary>
    public const byte Err = 0x01;
}

/// <summary>Bits of the Error register after a command that set ERR (ATA/ATAPI-6 clause 7, Error register).</summary>
public static class AtaError
{
    /// <summary>ID not found: the address is outside the user-accessible sectors.</summary>
    public const byte Idnf = 0x10;

    /// <summary>Command aborted: the command is not supported, its parameters are not, or the protocol was broken.</summary>
    public const byte Abrt = 0x04;

    /// <summary>
    /// The diagnostic code after a reset or EXECUTE DEVICE DIAGNOSTIC: device 0 passed and device 1
    /// passed or is not present (ATA/ATAPI-6, EXECUTE DEVICE DIAGNOSTIC, table of diagnostic codes).
    /// </summary>
    public const byte DiagnosticPassed = 0x01;
}

/// <summary>Bits of the Device register.</summary>
public static class AtaDevice
{
    /// <summary>Bit 6: the address is an LBA (clear: CHS, obsolete in ATA/ATAPI-6 3.1.14 and not implemented).</summary>
    public const byte Lba = 0x40;

    /// <summary>Bit 4, DEV: device 1 is selected.</summary>
    public const byte Dev = 0x10;
}

/// <summary>Bits of the Device Control register (ATA/ATAPI-6 clause 7, Device Control register).</summary>
public static class AtaDeviceControl
{
    /// <summary>Software reset: set holds the device in reset, clearing it lets the reset complete.</summary>
    public const byte Srst = 0x04;

    /// <summary>nIEN: set, the device does not drive INTRQ (an interrupt stays pending until cleared).</summary>
    public const byte NIen = 0x02;
}

/// <summary>The command codes <see cref="AtaController"/> executes (ATA/ATAPI-6 clause 8); any other aborts.</summary>
public static class AtaCommand
{
    public const byte ReadSectors = 0x20;

    public const byte WriteSectors = 0x30;

    public const byte ExecuteDeviceDiagnostic = 0x90;

    public const byte FlushCache = 0xE7;

    public const byte IdentifyDevice = 0xEC;

    public const byte SetFeatures = 0xEF;
}
