namespace VirtApi.Machine.Devices.Ata;

/// <summary>
/// What one ATA controller counted, each where the work happens (DESIGN.md "Statistics": per device
/// exits, requests, bytes), in the manner of <see cref="Virtio.VirtioCounters"/>. Plain properties:
/// the controller runs on its machine's thread.
/// </summary>
public sealed class AtaCounters
{
    /// <summary>Reads and writes of the register window, accepted or not: each is one exit for a trapping VMM.</summary>
    public ulong RegisterAccesses { get; set; }

    /// <summary>Commands device 0 received, executed or aborted; not those ignored while it was in reset or device 1 was selected.</summary>
    public ulong Commands { get; set; }

    /// <summary>Bytes moved through the Data register in a data phase (sectors and IDENTIFY data), two a word; words read or written with no DRQ are not.</summary>
    public ulong BytesTransferred { get; set; }

    /// <summary>Times INTRQ went from low to high (an interrupt behind nIEN or DEV raises nothing until they let it through).</summary>
    public ulong InterruptsRaised { get; set; }

    /// <summary>Commands that ended with ERR: ABRT (not supported, bad parameters, the protocol broken) or IDNF (no such sector).</summary>
    public ulong DeviceErrors { get; set; }

    /// <summary>Sectors read from the store for READ SECTORS.</summary>
    public ulong SectorsRead { get; set; }

    /// <summary>Sectors written to the store by WRITE SECTORS.</summary>
    public ulong SectorsWritten { get; set; }

    /// <summary>Flushes of the store: FLUSH CACHE, disabling the write cache, and WRITE SECTORS with the write cache disabled.</summary>
    public ulong Flushes { get; set; }

    /// <summary>The counts so far, for a snapshot.</summary>
    public AtaCountersState Save() => new()
    {
        RegisterAccesses = RegisterAccesses,
        Commands = Commands,
        BytesTransferred = BytesTransferred,
        InterruptsRaised = InterruptsRaised,
        DeviceErrors = DeviceErrors,
        SectorsRead = SectorsRead,
        SectorsWritten = SectorsWritten,
        Flushes = Flushes,
    };

    /// <summary>Counters that go on from <paramref name="state"/>.</summary>
    public static AtaCounters Restore(AtaCountersState state) => new()
    {
        RegisterAccesses = state.RegisterAccesses,
        Commands = state.Commands,
        BytesTransferred = state.BytesTransferred,
        InterruptsRaised = state.InterruptsRaised,
        DeviceErrors = state.DeviceErrors,
        SectorsRead = state.SectorsRead,
        SectorsWritten = state.SectorsWritten,
        Flushes = state.Flushes,
    };
}
