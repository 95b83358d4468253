namespace VirtApi.Machine.Devices;

/// <summary>
/// The interrupt inputs of one hart as the platform drives them: the CLINT drives the machine timer
/// and software bits, the PLIC the external bits. The level is held until the device lowers it
/// (privileged spec 3.1.9: MEIP, MTIP and MSIP are read-only in <c>mip</c>, set and cleared by the platform).
/// </summary>
public interface IInterruptPins
{
    /// <summary>Raises or lowers the pending bit <paramref name="mipBit"/> (e.g. 11 = MEIP, 9 = SEIP, 7 = MTIP, 3 = MSIP).</summary>
    void SetPending(int mipBit, bool level);
}

/// <summary>One interrupt source wired to the PLIC (a device's interrupt output).</summary>
public interface IInterruptLine
{
    /// <summary>Drives the line to <paramref name="level"/>; the PLIC latches a rising level as pending.</summary>
    void SetLevel(bool level);
}
