using System.Buffers.Binary;
using VirtApi.Machine.Bus;
using VirtApi.Machine.Devices.Block;

namespace VirtApi.Machine.Devices.Ata;

/// <summary>
/// An ATA PIO disk controller with one device (device 0, a 512-byte-sector disk addressed by
/// LBA28), after ATA/ATAPI-6 (T13/1410D); DESIGN.md's legacy register-level disk of the
/// <c>emulated</c> device model. Commands run to completion the moment they are written, so a run
/// never depends on timing, yet the guest sees the protocol of clause 9: BSY clear, DRQ set for each
/// DRQ data block, an interrupt where the spec asks for one.
/// </summary>
/// <remarks>
/// The register layout is the contract guest drivers are written against (offsets in
/// <see cref="AtaRegister"/>, <see cref="Size"/> bytes of address space):
/// <code>
/// offset  width  read               write
/// 0       16     Data               Data
/// 1       8      Error              Features
/// 2       8      Sector Count       Sector Count
/// 3       8      LBA Low            LBA Low
/// 4       8      LBA Mid            LBA Mid
/// 5       8      LBA High           LBA High
/// 6       8      Device             Device         (bit 6 LBA, bit 4 DEV, bits 3:0 LBA 27:24)
/// 7       8      Status             Command        (reading Status clears a pending interrupt)
/// 8       8      Alternate Status   Device Control (bit 2 SRST, bit 1 nIEN)
/// </code>
/// Any other width at these offsets, and any access at offsets 9 and up, is refused (a bus error
/// for the hart): a driver that gets the width wrong learns it at once instead of reading zeros.
/// Executed commands: IDENTIFY DEVICE (ECh), READ SECTORS (20h), WRITE SECTORS (30h), FLUSH CACHE
/// (E7h), SET FEATURES (EFh: write cache on/off, PIO transfer modes, enabling reverting to power-on
/// defaults) and EXECUTE DEVICE DIAGNOSTIC (90h); everything else ends with ERR and ABRT.
/// Device 1 is absent: while DEV selects it, Status and Alternate Status read 00h, the Data register
/// reads zeros and ignores writes, commands other than EXECUTE DEVICE DIAGNOSTIC (which both devices
/// execute) are ignored, and device 0 releases INTRQ.
/// Nothing a guest does can make this class throw: a register accessed out of turn reads zeros, is
/// ignored, or aborts the command, as each register's method says.
/// Where the controller sits is the board's business, not the controller's: VirtApi puts it in a
/// legacy slot of <see cref="Board.DeviceSlots"/> (slot 0: 0x1000_9000, PLIC source 12).
/// </remarks>
public sealed class AtaController : IMmioDevice
{
    public const ulong Size = 0x1000;

    public const int SectorSize = IBlockStore.SectorSize;

    public const int WordsPerSector = SectorSize / 2;

    /// <summary>
    /// The most sectors the LBA28 commands reach: IDENTIFY DEVICE words 60-61 report at most
    /// 0FFFFFFFh (ATA/ATAPI-6, IDENTIFY DEVICE), so the last LBA they address is 0FFFFFFEh.
    /// </summary>
    public const ulong MaxLba28Sectors = 0x0FFF_FFFF;

    public const string ModelNumber = "VirtApi ATA disk";

    public const string SerialNumber = "VA-ATA-0001";

    public const string FirmwareRevision = "1.0";

    private readonly IInterruptLine _irq;
    private readonly IBlockStore _store;
    private readonly ulong _addressableSectors;
    private readonly byte[] _buffer = new byte[SectorSize];

    private byte _features;
    private byte _sectorCount;
    private byte _lbaLow;
    private byte _lbaMid;
    private byte _lbaHigh;
    private byte _device;
    private byte _status;
    private byte _error;
    private byte _deviceControl;
    private bool _interruptPending;
    private bool _writeCacheEnabled;
    private PioTransfer _transfer;
    private int _wordsTransferred;
    private int _sectorsRemaining;
    private ulong _currentLba;

    // The level INTRQ was last driven to, so that the PLIC hears only changes (the Data register
    // path would otherwise call into it 256 times a sector).
    private bool _intrq;

    /// <summary>A controller whose device 0 has just been powered on, serving <paramref name="store"/>.</summary>
    public AtaController(IInterruptLine irq, IBlockStore store)
    {
        ArgumentNullException.ThrowIfNull(irq);
        ArgumentNullException.ThrowIfNull(store);
        if (store.SectorCount == 0)
        {
            throw new ArgumentException("the disk has no sectors", nameof(store));
        }
        _irq = irq;
        _store = store;
        _addressableSectors = Math.Min(store.SectorCount, MaxLba28Sectors);
        // Power-on ends as a reset does (ATA/ATAPI-6 clause 9, power-on and hardware reset protocol):
        // diagnostics passed, the signature in the command block, DRDY.
        RevertToPowerOnDefaults();
        EndReset();
    }

    /// <summary>Sectors a command can address: the disk's, at most <see cref="MaxLba28Sectors"/>.</summary>
    public ulong AddressableSectors => _addressableSectors;

    /// <summary>What this controller has done so far; saved with it.</summary>
    public AtaCounters Counters { get; private set; } = new();

    private bool Device1Selected => (_device & AtaDevice.Dev) != 0;

    private bool InReset => (_deviceControl & AtaDeviceControl.Srst) != 0;

    public bool Read(ulong offset, int size, out ulong value)
    {
        Counters.RegisterAccesses++;
        value = 0;
        if (offset == AtaRegister.Data)
        {
            if (size != 2)
            {
                return false;
            }
            value = ReadData();
            return true;
        }
        if (size != 1 || offset > AtaRegister.AlternateStatusDeviceControl)
        {
            return false;
        }
        switch (offset)
        {
            case AtaRegister.ErrorFeatures: value = _error; break;
            case AtaRegister.SectorCount: value = _sectorCount; break;
            case AtaRegister.LbaLow: value = _lbaLow; break;
            case AtaRegister.LbaMid: value = _lbaMid; break;
            case AtaRegister.LbaHigh: value = _lbaHigh; break;
            case AtaRegister.Device: value = _device; break;
            case AtaRegister.StatusCommand: value = ReadStatus(); break;
            default: value = Device1Selected ? 0u : _status; break; // Alternate Status: the interrupt stays pending
        }
        return true;
    }

    public bool Write(ulong offset, int size, ulong value)
    {
        Counters.RegisterAccesses++;
        if (offset == AtaRegister.Data)
        {
            if (size != 2)
            {
                return false;
            }
            WriteData((ushort)value);
            return true;
        }
        if (size != 1 || offset > AtaRegister.AlternateStatusDeviceControl)
        {
            return false;
        }
        var b = (byte)value;
        if (offset == AtaRegister.AlternateStatusDeviceControl)
        {
            WriteDeviceControl(b);
            return true;
        }
        if (InReset)
        {
            return true; // BSY: the command block belongs to the device until the reset ends
        }
        switch (offset)
        {
            case AtaRegister.ErrorFeatures: _features = b; break;
            case AtaRegister.SectorCount: _sectorCount = b; break;
            case AtaRegister.LbaLow: _lbaLow = b; break;
            case AtaRegister.LbaMid: _lbaMid = b; break;
            case AtaRegister.LbaHigh: _lbaHigh = b; break;
            case AtaRegister.Device:
                _device = b;
                UpdateIntrq(); // INTRQ is driven only by the selected device
                break;
            default: WriteCommand(b); break;
        }
        return true;
    }

    /// <summary>The registers, the transfer in progress and the counters, for a snapshot; the disk's contents stay in the store.</summary>
    public AtaState Save() => new()
    {
        Features = _features,
        SectorCount = _sectorCount,
        LbaLow = _lbaLow,
        LbaMid = _lbaMid,
        LbaHigh = _lbaHigh,
        Device = _device,
        Status = _status,
        Error = _error,
        DeviceControl = _deviceControl,
        InterruptPending = _interruptPending,
        WriteCacheEnabled = _writeCacheEnabled,
        Transfer = _transfer,
        Buffer = [.. _buffer],
        WordsTransferred = _wordsTransferred,
        SectorsRemaining = _sectorsRemaining,
        CurrentLba = _currentLba,
        Counters = Counters.Save(),
    };

    /// <summary>
    /// A controller holding <paramref name="state"/>, serving the store of <paramref name="args"/>; it
    /// drives INTRQ at once to the level the state gives, the level it had when saved. Throws when
    /// the state could not have been saved by a controller on this store (a transfer that would run
    /// past its last sector, DRQ without a transfer, a position outside the data block).
    /// </summary>
    public static AtaController Restore(AtaArgs args, AtaState state)
    {
        var ata = new AtaController(args.Irq, args.Store);
        StateArrays.CopyInto(state.Buffer, ata._buffer, nameof(state.Buffer));
        if (!Enum.IsDefined(state.Transfer))
        {
            throw new ArgumentException($"Transfer {state.Transfer} is not a PIO transfer", nameof(state));
        }
        if (state.WordsTransferred is < 0 or >= WordsPerSector)
        {
            throw new ArgumentException($"WordsTransferred {state.WordsTransferred} is outside the {WordsPerSector}-word data block", nameof(state));
        }
        var transferring = state.Transfer != PioTransfer.None;
        if (transferring != ((state.Status & AtaStatus.Drq) != 0))
        {
            throw new ArgumentException("DRQ is set exactly while a transfer is in progress", nameof(state));
        }
        if (((state.Status & AtaStatus.Bsy) != 0) != ((state.DeviceControl & AtaDeviceControl.Srst) != 0))
        {
            throw new ArgumentException("BSY is set exactly while SRST holds the device in reset", nameof(state));
        }
        if (transferring
            ? state.SectorsRemaining is < 1 or > 256
                || (ulong)state.SectorsRemaining > ata._addressableSectors
                || state.CurrentLba > ata._addressableSectors - (ulong)state.SectorsRemaining
            : state.SectorsRemaining != 0)
        {
            throw new ArgumentException($"{state.SectorsRemaining} sectors from LBA {state.CurrentLba} do not fit the transfer or this disk of {ata._addressableSectors} sectors", nameof(state));
        }
        ata._features = state.Features;
        ata._sectorCount = state.SectorCount;
        ata._lbaLow = state.LbaLow;
        ata._lbaMid = state.LbaMid;
        ata._lbaHigh = state.LbaHigh;
        ata._device = state.Device;
        ata._status = state.Status;
        ata._error = state.Error;
        ata._deviceControl = state.DeviceControl;
        ata._interruptPending = state.InterruptPending;
        ata._writeCacheEnabled = state.WriteCacheEnabled;
        ata._transfer = state.Transfer;
        ata._wordsTransferred = state.WordsTransferred;
        ata._sectorsRemaining = state.SectorsRemaining;
        ata._currentLba = state.CurrentLba;
        ata.Counters = AtaCounters.Restore(state.Counters);
        ata._intrq = ata.IntrqLevel;
        args.Irq.SetLevel(ata._intrq);
        return ata;
    }

    // ---- registers --------------------------------------------------------------------------------

    /// <summary>
    /// Status, which acknowledges the interrupt: reading it clears the interrupt pending (clause 7,
    /// Status register). With device 1 selected nobody answers for it and device 0 returns 00h, so a
    /// host polling an absent device 1 sees BSY and DRDY both clear.
    /// </summary>
    private byte ReadStatus()
    {
        if (Device1Selected)
        {
            return 0;
        }
        var status = _status;
        if (_interruptPending)
        {
            _interruptPending = false;
            UpdateIntrq();
        }
        return status;
    }

    /// <summary>
    /// One word of a PIO data-in block (clause 9, PIO data-in protocol). The last word of a block
    /// ends it: either the next sector is fetched, with DRQ set again and an interrupt, or the
    /// command is done, DRQ clears, and no interrupt follows. Read when the device has no data for
    /// the host (no DRQ, a data-out transfer, device 1 selected) it is zero and changes nothing.
    /// </summary>
    private ushort ReadData()
    {
        if (_transfer != PioTransfer.DataIn || Device1Selected)
        {
            return 0;
        }
        var word = BinaryPrimitives.ReadUInt16LittleEndian(_buffer.AsSpan(_wordsTransferred * 2));
        Counters.BytesTransferred += 2;
        if (++_wordsTransferred == WordsPerSector)
        {
            _wordsTransferred = 0;
            if (--_sectorsRemaining > 0)
            {
                _currentLba++;
                if (FetchSector())
                {
                    _status = AtaStatus.Drdy | AtaStatus.Drq;
                    RaiseInterrupt();
                }
            }
            else
            {
                _transfer = PioTransfer.None;
                _status = AtaStatus.Drdy;
            }
        }
        return word;
    }

    /// <summary>
    /// One word of a PIO data-out block (clause 9, PIO data-out protocol). The last word of a block
    /// writes the sector and interrupts: with DRQ set again when another block is wanted, with DRQ
    /// clear when the command is complete. Written when the device wants no data, it is ignored.
    /// </summary>
    private void WriteData(ushort word)
    {
        if (_transfer != PioTransfer.DataOut || Device1Selected)
        {
            return;
        }
        BinaryPrimitives.WriteUInt16LittleEndian(_buffer.AsSpan(_wordsTransferred * 2), word);
        Counters.BytesTransferred += 2;
        if (++_wordsTransferred < WordsPerSector)
        {
            return;
        }
        _wordsTransferred = 0;
        if (!_store.TryWrite(_currentLba, _buffer))
        {
            StoreRefused();
            return;
        }
        Counters.SectorsWritten++;
        _currentLba++;
        if (--_sectorsRemaining > 0)
        {
            _status = AtaStatus.Drdy | AtaStatus.Drq;
        }
        else
        {
            _transfer = PioTransfer.None;
            if (!_writeCacheEnabled)
            {
                FlushStore(); // with no write cache, completion means the data is on the medium
            }
            _status = AtaStatus.Drdy;
        }
        RaiseInterrupt();
    }

    /// <summary>
    /// Device Control, which both devices take whatever DEV says (clause 7). SRST going from 0 to 1
    /// starts a software reset: BSY, the command in progress dropped, no interrupt pending. SRST going
    /// back to 0 ends it (clause 9, software reset protocol): diagnostics passed, the signature in the
    /// command block, DRDY, settings reverted to their power-on defaults, and no interrupt.
    /// </summary>
    private void WriteDeviceControl(byte value)
    {
        var wasInReset = InReset;
        _deviceControl = value;
        if (!wasInReset && InReset)
        {
            EndTransfer();
            _status = AtaStatus.Bsy;
            _interruptPending = false;
        }
        else if (wasInReset && !InReset)
        {
            RevertToPowerOnDefaults();
            EndReset();
        }
        UpdateIntrq();
    }

    // ---- commands ----------------------------------------------------------------------------------

    /// <summary>
    /// A command for the selected device. Writing the Command register clears the interrupt pending
    /// (clause 7, Status register). The host may write a command only with BSY and DRQ clear (clause
    /// 9); one written while a data block is wanted is not executed: the transfer is dropped, the
    /// sectors already transferred stay transferred, and the command ends with ABRT, which tells the
    /// driver plainly what happened.
    /// </summary>
    private void WriteCommand(byte command)
    {
        if (Device1Selected && command != AtaCommand.ExecuteDeviceDiagnostic)
        {
            return; // addressed to the absent device 1: no one executes it
        }
        Counters.Commands++;
        _interruptPending = false;
        if (_transfer != PioTransfer.None)
        {
            EndTransfer();
            Fail(AtaError.Abrt);
            return;
        }
        _error = 0;
        switch (command)
        {
            case AtaCommand.IdentifyDevice: IdentifyDevice(); break;
            case AtaCommand.ReadSectors: ReadSectors(); break;
            case AtaCommand.WriteSectors: WriteSectors(); break;
            case AtaCommand.FlushCache:
                FlushStore();
                Complete();
                break;
            case AtaCommand.SetFeatures:
                if (SetFeatures())
                {
                    Complete();
                }
                else
                {
                    Fail(AtaError.Abrt);
                }
                break;
            case AtaCommand.ExecuteDeviceDiagnostic:
                // Executed by device 0 whatever DEV selects; it ends as a reset does, then interrupts
                // (clause 9, EXECUTE DEVICE DIAGNOSTIC protocol). The signature clears DEV, so the
                // interrupt reaches the host.
                EndReset();
                RaiseInterrupt();
                break;
            default:
                Fail(AtaError.Abrt); // not implemented: ATA/ATAPI-6 clause 8, "command not supported"
                break;
        }
        UpdateIntrq();
    }

    /// <summary>IDENTIFY DEVICE: one data-in block of 256 words describing the device, with an interrupt (ATA/ATAPI-6 clause 8).</summary>
    private void IdentifyDevice()
    {
        FillIdentifyData();
        StartDataIn(lba: 0, sectors: 1);
    }

    /// <summary>READ SECTORS: Sector Count sectors (0 means 256) from the LBA in the command block, one DRQ data block each.</summary>
    private void ReadSectors()
    {
        if (TryCommandAddress(out var lba, out var sectors))
        {
            _currentLba = lba;
            if (FetchSector())
            {
                StartDataIn(lba, sectors);
            }
        }
    }

    /// <summary>
    /// WRITE SECTORS: the device sets DRQ for the first block at once, without an interrupt; every
    /// later block and the completion come with one (clause 9, PIO data-out protocol).
    /// </summary>
    private void WriteSectors()
    {
        if (TryCommandAddress(out var lba, out var sectors))
        {
            _transfer = PioTransfer.DataOut;
            _currentLba = lba;
            _sectorsRemaining = sectors;
            _wordsTransferred = 0;
            _status = AtaStatus.Drdy | AtaStatus.Drq;
        }
    }

    /// <summary>
    /// SET FEATURES: the subcommand in Features. Accepted are those that make sense for this device:
    /// enabling (02h) or disabling (82h) the write cache, choosing a PIO transfer mode the device
    /// reports (03h with Sector Count 00h, 01h, or 08h to 0Ch: PIO modes 0 to 4), and enabling
    /// reverting to power-on defaults (CCh), which is what this device always does. Any other
    /// subcommand or value is "not supported", which SET FEATURES answers with ABRT.
    /// </summary>
    private bool SetFeatures()
    {
        switch (_features)
        {
            case 0x02:
                _writeCacheEnabled = true;
                return true;
            case 0x82:
                _writeCacheEnabled = false;
                FlushStore(); // what the cache held must not stay volatile once it is off
                return true;
            case 0x03:
                return _sectorCount is 0x00 or 0x01 or (>= 0x08 and <= 0x0C);
            case 0xCC:
                return true;
            default:
                return false;
        }
    }

    /// <summary>
    /// The LBA and sector count of a READ or WRITE SECTORS. False, with the command already failed,
    /// for a CHS address (LBA bit clear: CHS is obsolete, 3.1.14, and not implemented, so ABRT) or
    /// for sectors past the last addressable one (IDNF, with the LBA registers naming the first
    /// sector that could not be found, as the commands' error outputs ask). Nothing is transferred
    /// then: the whole range is checked before the first sector.
    /// </summary>
    private bool TryCommandAddress(out ulong lba, out int sectors)
    {
        sectors = _sectorCount == 0 ? 256 : _sectorCount;
        lba = ((ulong)(_device & 0x0F) << 24) | ((ulong)_lbaHigh << 16) | ((ulong)_lbaMid << 8) | _lbaLow;
        if ((_device & AtaDevice.Lba) == 0)
        {
            Fail(AtaError.Abrt);
            return false;
        }
        if (lba + (ulong)sectors > _addressableSectors)
        {
            FailNotFound(Math.Max(lba, _addressableSectors));
            return false;
        }
        return true;
    }

    /// <summary>IDNF, with the LBA registers naming <paramref name="missing"/>, the first sector that could not be found.</summary>
    private void FailNotFound(ulong missing)
    {
        _lbaLow = (byte)missing;
        _lbaMid = (byte)(missing >> 8);
        _lbaHigh = (byte)(missing >> 16);
        _device = (byte)((_device & 0xF0) | (int)((missing >> 24) & 0x0F));
        Fail(AtaError.Idnf);
    }

    /// <summary>
    /// The store refused the sector at <see cref="_currentLba"/> although the command's range was
    /// checked against it: a store whose medium went away under the disk. The command ends there as
    /// if the sector were missing (IDNF naming it); the sectors before it stay transferred.
    /// </summary>
    private void StoreRefused()
    {
        EndTransfer();
        FailNotFound(_currentLba);
    }

    private void StartDataIn(ulong lba, int sectors)
    {
        _transfer = PioTransfer.DataIn;
        _currentLba = lba;
        _sectorsRemaining = sectors;
        _wordsTransferred = 0;
        _status = AtaStatus.Drdy | AtaStatus.Drq;
        RaiseInterrupt();
    }

    /// <summary>The sector at <see cref="_currentLba"/> into the data block; false, with the command failed, when the store refuses it.</summary>
    private bool FetchSector()
    {
        if (!_store.TryRead(_currentLba, _buffer))
        {
            StoreRefused();
            return false;
        }
        Counters.SectorsRead++;
        return true;
    }

    private void FlushStore()
    {
        _store.Flush();
        Counters.Flushes++;
    }

    private void EndTransfer()
    {
        _transfer = PioTransfer.None;
        _wordsTransferred = 0;
        _sectorsRemaining = 0;
    }

    /// <summary>A command without a data phase ends well: DRDY, and an interrupt.</summary>
    private void Complete()
    {
        _status = AtaStatus.Drdy;
        RaiseInterrupt();
    }

    /// <summary>A command ends with an error: ERR with <paramref name="error"/> in the Error register, DRDY, and an interrupt.</summary>
    private void Fail(byte error)
    {
        Counters.DeviceErrors++;
        _error = error;
        _status = AtaStatus.Drdy | AtaStatus.Err;
        RaiseInterrupt();
    }

    /// <summary>
    /// The outcome of a reset or EXECUTE DEVICE DIAGNOSTIC for device 0 alone on the cable: the
    /// diagnostic code in Error, the ATA signature in the command block (Sector Count 01h, LBA Low
    /// 01h, LBA Mid 00h, LBA High 00h, Device 00h) and DRDY (ATA/ATAPI-6 clause 9 and the
    /// signature table of clause 8, EXECUTE DEVICE DIAGNOSTIC).
    /// </summary>
    private void EndReset()
    {
        EndTransfer();
        _error = AtaError.DiagnosticPassed;
        _sectorCount = 1;
        _lbaLow = 1;
        _lbaMid = 0;
        _lbaHigh = 0;
        _device = 0;
        _status = AtaStatus.Drdy;
    }

    /// <summary>Settings SET FEATURES changes, at their power-on values: the write cache enabled.</summary>
    private void RevertToPowerOnDefaults() => _writeCacheEnabled = true;

    // ---- INTRQ -------------------------------------------------------------------------------------

    private void RaiseInterrupt()
    {
        _interruptPending = true;
        UpdateIntrq();
    }

    /// <summary>
    /// INTRQ is asserted while the device has an interrupt pending, nIEN is clear and the device is
    /// selected (ATA/ATAPI-6, signal INTRQ; clause 7, Device Control register). nIEN and DEV only gate the line:
    /// the interrupt stays pending behind them.
    /// </summary>
    private bool IntrqLevel => _interruptPending && (_deviceControl & AtaDeviceControl.NIen) == 0 && !Device1Selected;

    private void UpdateIntrq()
    {
        var level = IntrqLevel;
        if (level != _intrq)
        {
            _intrq = level;
            _irq.SetLevel(level);
            if (level)
            {
                Counters.InterruptsRaised++;
            }
        }
    }

    // ---- IDENTIFY DEVICE data ----------------------------------------------------------------------

    /// <summary>
    /// The 256 words of IDENTIFY DEVICE (ATA/ATAPI-6 clause 8, IDENTIFY DEVICE), into the data block.
    /// Words not set here are zero: obsolete (the CHS geometry in words 1, 3, 6 and 54-58), or
    /// features this device does not have (DMA, READ/WRITE MULTIPLE, power management, security).
    /// </summary>
    private void FillIdentifyData()
    {
        Array.Clear(_buffer);
        SetWord(0, 0x0000); // bit 15 clear: an ATA device; bit 7 clear: not removable
        SetString(10, 10, SerialNumber);
        SetString(23, 4, FirmwareRevision);
        SetString(27, 20, ModelNumber);
        SetWord(47, 0x8000); // bits 15:8 are 80h; bits 7:0 zero: READ/WRITE MULTIPLE not supported
        SetWord(49, (1 << 9) | (1 << 11)); // LBA supported (bit 9), IORDY supported (bit 11, needed by PIO modes 3 and 4)
        SetWord(50, 0x4000); // bit 14 set, bit 15 clear: the word is valid
        SetWord(53, 1 << 1); // words 64-70 are valid; words 54-58 (CHS) and 88 are not
        SetWord(60, (ushort)_addressableSectors); // total user-addressable sectors for LBA28
        SetWord(61, (ushort)(_addressableSectors >> 16));
        SetWord(64, 0x0003); // PIO modes 3 and 4 supported
        SetWord(67, 120); // minimum PIO cycle time without flow control, ns (mode 4)
        SetWord(68, 120); // minimum PIO cycle time with IORDY, ns
        SetWord(80, 1 << 6); // major version: ATA/ATAPI-6
        SetWord(82, 1 << 5); // write cache supported
        // Word 83: bit 14 set and 15 clear (the word is valid), bit 12 FLUSH CACHE supported. Bit 10
        // (48-bit Address feature set) stays clear: the EXT commands are not implemented, so a host
        // addresses the disk through words 60-61 and LBA28.
        SetWord(83, (1 << 14) | (1 << 12));
        SetWord(84, 1 << 14); // valid, no extended features
        SetWord(85, (ushort)(_writeCacheEnabled ? 1 << 5 : 0)); // write cache enabled
        SetWord(86, 1 << 12); // FLUSH CACHE enabled (words 85-87 mirror 82-84 as enabled)
        SetWord(87, 1 << 14); // valid
        // Words 100-103, the 48-bit maximum user LBA + 1: meaningful only with word 83 bit 10, which
        // is clear; filled anyway with the disk's full size, for hosts that read them regardless.
        SetWord(100, (ushort)_store.SectorCount);
        SetWord(101, (ushort)(_store.SectorCount >> 16));
        SetWord(102, (ushort)(_store.SectorCount >> 32));
        SetWord(103, (ushort)(_store.SectorCount >> 48));
        // Word 255, integrity: signature A5h in bits 7:0 and in bits 15:8 the checksum that makes
        // all 512 bytes sum to zero (mod 256).
        _buffer[510] = 0xA5;
        byte sum = 0;
        for (var i = 0; i < 511; i++)
        {
            sum += _buffer[i];
        }
        _buffer[511] = (byte)-sum;
    }

    private void SetWord(int word, ushort value) => BinaryPrimitives.WriteUInt16LittleEndian(_buffer.AsSpan(word * 2), value);

    /// <summary>
    /// An ATA string of <paramref name="words"/> words at <paramref name="first"/>: ASCII padded with
    /// spaces, two characters a word with the first in bits 15:8 (ATA/ATAPI-6, IDENTIFY DEVICE:
    /// serial number, firmware revision and model number), which is why a little-endian host that
    /// reads the bytes in memory order sees every pair swapped.
    /// </summary>
    private void SetString(int first, int words, string text)
    {
        for (var i = 0; i < words; i++)
        {
            SetWord(first + i, (ushort)((Character(text, 2 * i) << 8) | Character(text, (2 * i) + 1)));
        }

        static char Character(string text, int index) => index < text.Length ? text[index] : ' ';
    }
}
