package decode

import (
	"strconv"
	"time"
)

// Summary flattens the decoded input into the columns lists, filters and one-line output use.
// Fields of an invalid payload are filled too; Label says how far to trust them.
func (d *Decoded) Summary() Summary {
	s := Summary{Kind: d.Kind, Label: d.Verification.Shown(), Class: d.Verification.Class, Message: d.Verification.Message}
	switch {
	case d.Notification != nil:
		n := d.Notification
		s.NotificationUUID = n.NotificationUUID
		s.Type, s.Subtype = string(n.NotificationType), string(n.Subtype)
		s.SignedDate = n.SignedDate.Time()
		s.Environment, s.BundleID, s.AppAppleID, _ = notificationIdentity(n)
		if n.Data == nil && n.Summary != nil {
			// Only a summary that is the identity's source names the product.
			s.ProductID = n.Summary.ProductID
		}
		if t := d.SignedTransactionInfo; t != nil && t.Transaction != nil {
			fillTransaction(&s, t.Transaction)
		}
		if r := d.SignedRenewalInfo; r != nil && r.RenewalInfo != nil {
			if s.OriginalTransactionID == "" {
				s.OriginalTransactionID = r.RenewalInfo.OriginalTransactionID
			}
			if s.ProductID == "" {
				s.ProductID = r.RenewalInfo.ProductID
			}
			if s.AppAccountToken == "" {
				s.AppAccountToken = r.RenewalInfo.AppAccountToken
			}
		}
		if a := d.SignedAppTransactionInfo; a != nil && a.AppTransaction != nil && s.TransactionID == "" {
			s.TransactionID = a.AppTransaction.AppTransactionID
		}
	case d.Transaction != nil:
		t := d.Transaction
		s.Environment, s.BundleID = t.Environment, t.BundleID
		fillTransaction(&s, t)
		s.SignedDate = t.SignedDate.Time()
	case d.RenewalInfo != nil:
		r := d.RenewalInfo
		s.Environment, s.OriginalTransactionID, s.ProductID = r.Environment, r.OriginalTransactionID, r.ProductID
		if s.ProductID == "" {
			s.ProductID = r.AutoRenewProductID
		}
		s.SignedDate = r.SignedDate.Time()
		s.ExpiresDate = r.RenewalDate.Time()
	case d.AppTransaction != nil:
		a := d.AppTransaction
		s.Environment, s.BundleID, s.AppAppleID = a.ReceiptType, a.BundleID, a.AppAppleID
		s.TransactionID = a.AppTransactionID
		s.SignedDate = a.ReceiptCreationDate.Time()
		s.PurchaseDate = a.OriginalPurchaseDate.Time()
	case d.RealtimeRequest != nil:
		r := d.RealtimeRequest
		s.Environment, s.AppAppleID, s.OriginalTransactionID, s.ProductID = r.Environment, r.AppAppleID, r.OriginalTransactionID, r.ProductID
		s.RequestIdentifier, s.UserLocale = r.RequestIdentifier, r.UserLocale
		s.SignedDate = r.SignedDate.Time()
	case d.V1 != nil:
		v := d.V1
		s.Type = v.NotificationType
		s.Environment, s.BundleID = v1Environment(v.Environment), v.BID
		s.OriginalTransactionID = v.OriginalTransactionID.String()
		s.ProductID = v.AutoRenewProductID
		if u := v.UnifiedReceipt; u != nil && len(u.LatestReceiptInfo) > 0 {
			li := u.LatestReceiptInfo[0]
			s.TransactionID = li.TransactionID
			if s.OriginalTransactionID == "" {
				s.OriginalTransactionID = li.OriginalTransactionID
			}
			if li.ProductID != "" {
				s.ProductID = li.ProductID
			}
			s.PurchaseDate = msString(li.PurchaseDateMS)
			s.ExpiresDate = msString(li.ExpiresDateMS)
		}
	}
	return s
}

func fillTransaction(s *Summary, t *Transaction) {
	s.OriginalTransactionID, s.TransactionID, s.ProductID = t.OriginalTransactionID, t.TransactionID, t.ProductID
	s.AppAccountToken = t.AppAccountToken
	s.PurchaseDate, s.ExpiresDate = t.PurchaseDate.Time(), t.ExpiresDate.Time()
}

func msString(s string) time.Time {
	ms, err := strconv.ParseInt(s, 10, 64)
	if err != nil || ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}
