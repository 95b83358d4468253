using System.Collections.Immutable;
using VirtApi.Machine.Devices.Block;

namespace VirtApi.Machine.Devices.Ata;

/// <summary>The data phase of the command in progress (ATA/ATAPI-6 clause 9: PIO data-in and PIO data-out protocols).</summary>
public enum PioTransfer
{
    /// <summary>No data phase: DRQ is clear.</summary>
    None,

    /// <summary>Device to host (IDENTIFY DEVICE, READ SECTORS): the host reads the DRQ data block.</summary>
    DataIn,

    /// <summary>Host to device (WRITE SECTORS): the host writes the DRQ data block.</summary>
    DataOut,
}

/// <summary>
/// The saved <see cref="AtaController"/>: every register, the transfer in progress and the
/// counters. The disk's contents are not here: they live in the <see cref="IBlockStore"/>, which a
/// restored controller is given. INTRQ is not saved as such: its level follows from
/// <see cref="InterruptPending"/>, nIEN in <see cref="DeviceControl"/> and DEV in <see cref="Device"/>.
/// </summary>
public sealed record AtaState
{
    public required byte Features { get; init; }

    public required byte SectorCount { get; init; }

    public required byte LbaLow { get; init; }

    public required byte LbaMid { get; init; }

    public required byte LbaHigh { get; init; }

    public required byte Device { get; init; }

    public required byte Status { get; init; }

    public required byte Error { get; init; }

    public required byte DeviceControl { get; init; }

    /// <summary>The device's interrupt pending, set when it asks for INTRQ and cleared by a Status read, a command or a reset.</summary>
    public required bool InterruptPending { get; init; }

    /// <summary>The volatile write cache is enabled (SET FEATURES 02h/82h); disabled, WRITE SECTORS flushes before it completes.</summary>
    public required bool WriteCacheEnabled { get; init; }

    public required PioTransfer Transfer { get; init; }

    /// <summary>The DRQ data block: one sector (or the IDENTIFY DEVICE data), 512 bytes.</summary>
    public required ImmutableArray<byte> Buffer { get; init; }

    /// <summary>Words of <see cref="Buffer"/> the host has transferred so far, 0 to 255.</summary>
    public required int WordsTransferred { get; init; }

    /// <summary>Sectors of the command not yet transferred, counting the one in <see cref="Buffer"/>.</summary>
    public required int SectorsRemaining { get; init; }

    /// <summary>The LBA of the sector in <see cref="Buffer"/> (data-in) or the one it will be written to (data-out).</summary>
    public required ulong CurrentLba { get; init; }

    public required AtaCountersState Counters { get; init; }
}

/// <summary>The saved <see cref="AtaCounters"/>: a device's statistics travel with its snapshot.</summary>
public sealed record AtaCountersState
{
    public required ulong RegisterAccesses { get; init; }

    public required ulong Commands { get; init; }

    public required ulong BytesTransferred { get; init; }

    public required ulong InterruptsRaised { get; init; }

    public required ulong DeviceErrors { get; init; }

    public required ulong SectorsRead { get; init; }

    public required ulong SectorsWritten { get; init; }

    public required ulong Flushes { get; init; }
}

/// <summary>
/// What a restored <see cref="AtaController"/> is given: its interrupt line (a PLIC source, already
/// restored) and the disk it serves, holding the contents it held when the state was saved.
/// </summary>
public sealed record AtaArgs(IInterruptLine Irq, IBlockStore Store);
