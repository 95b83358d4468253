using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using VirtApi.Hypervisor.Devices;
using VirtApi.Persistence.Entities;

namespace VirtApi.Persistence.Configurations;

internal sealed class VmDeviceConfiguration : IEntityTypeConfiguration<VmDeviceEntity>
{
    public void Configure(EntityTypeBuilder<VmDeviceEntity> builder)
    {
        builder.ToTable("VmDevices");
        builder.HasKey(d => d.Id);
        builder.Property(d => d.Kind).HasConversion(EnumNames.Converter<DeviceKind>()).HasMaxLength(32);
        builder.Property(d => d.Model).HasConversion(EnumNames.Converter<DeviceModel>()).HasMaxLength(32);
        builder.Property(d => d.Name).HasMaxLength(63).IsRequired();
        builder.HasOne<VmEntity>().WithMany(v => v.Devices).HasForeignKey(d => d.VmId).OnDelete(DeleteBehavior.Cascade);
        // The endpoints allocate slots and check holders inside one write transaction; these indexes
        // are the backstop: a slot is taken once per VM in each of the two slot spaces (virtio for
        // split devices, legacy for the others), and a host device is held by one VM device at most.
        builder.HasIndex(d => new { d.VmId, d.Slot }, "IX_VmDevices_VmId_VirtioSlot").IsUnique().HasFilter("\"Model\" = 'split'");
        builder.HasIndex(d => new { d.VmId, d.Slot }, "IX_VmDevices_VmId_LegacySlot").IsUnique().HasFilter("\"Model\" <> 'split'");
        builder.HasIndex(d => new { d.VmId, d.Name }).IsUnique();
        builder.HasIndex(d => d.HostDeviceId).IsUnique();
        // A host device in use cannot be removed from under its VM (its host cannot go while VMs are
        // placed on it, and the foreign key refuses it even if a request raced past that check).
        builder.HasOne(d => d.HostDevice).WithMany().HasForeignKey(d => d.HostDeviceId).OnDelete(DeleteBehavior.Restrict);
    }
}
